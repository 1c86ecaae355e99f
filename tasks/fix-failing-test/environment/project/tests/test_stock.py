import pytest

from inventory.stock import OutOfStock, Stock


def test_value_is_quantity_times_price():
    stock = Stock()
    stock.add("bolt", 10, 0.25)
    stock.add("nut", 4, 0.5)
    assert stock.value() == 4.5


def test_can_remove_everything_held():
    stock = Stock()
    stock.add("bolt", 3, 1.0)
    stock.remove("bolt", 3)
    assert stock.value() == 0.0


def test_cannot_remove_more_than_held():
    stock = Stock()
    stock.add("bolt", 3, 1.0)
    with pytest.raises(OutOfStock):
        stock.remove("bolt", 4)
