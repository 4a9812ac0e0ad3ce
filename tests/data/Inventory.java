package shop;

import java.util.HashMap;
import java.util.Map;

public class Inventory {
    private final Map<String, Integer> stock = new HashMap<>();

    public int count(String sku) {
        Integer n = stock.get(sku);
        if (n == null) {
            return 0;
        }
        return n;
    }

    public void add(String sku, int amount) {
        stock.put(sku, count(sku) + amount);
    }
}
