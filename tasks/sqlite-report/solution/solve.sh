#!/bin/bash
set -euo pipefail
cd /app
sqlite3 shop.db <<'SQL'
CREATE VIEW customer_revenue AS
  SELECT c.name AS name,
         COALESCE(SUM(CASE WHEN o.status = 'paid' THEN o.amount END), 0) AS revenue
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
  GROUP BY c.id;
SQL
sqlite3 shop.db "SELECT name FROM customer_revenue ORDER BY revenue DESC LIMIT 1" > top_customer.txt
sqlite3 -header shop.db "SELECT * FROM customer_revenue"
cat top_customer.txt
