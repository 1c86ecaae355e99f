"""A tiny stock ledger."""


class OutOfStock(Exception):
    pass


class Stock:
    def __init__(self):
        self.items = {}  # name -> (quantity, unit price)

    def add(self, name, quantity, price):
        held, _ = self.items.get(name, (0, price))
        self.items[name] = (held + quantity, price)

    def remove(self, name, quantity):
        held, price = self.items.get(name, (0, 0.0))
        if quantity >= held:
            raise OutOfStock(name)
        self.items[name] = (held - quantity, price)

    def value(self):
        total = 0.0
        for quantity, price in self.items.values():
            total += quantity + price
        return round(total, 2)
