CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), amount REAL, status TEXT);
INSERT INTO customers VALUES (1, 'Acme', 'Oslo'), (2, 'Globex', 'Lima'), (3, 'Initech', 'Oslo'), (4, 'Umbrella', 'Kyiv');
INSERT INTO orders VALUES
  (1, 1, 120.0, 'paid'), (2, 1, 80.5, 'paid'), (3, 2, 300.0, 'cancelled'), (4, 2, 50.0, 'paid'),
  (5, 3, 99.9, 'paid'), (6, 3, 150.0, 'paid'), (7, 1, 10.0, 'refunded'), (8, 2, 45.25, 'paid');
