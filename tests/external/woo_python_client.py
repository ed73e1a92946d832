"""WooCommerce's official Python client (PyPI `WooCommerce`), unmodified, against a store given as
URL KEY SECRET PREFIX: lists orders page by page, then writes (a product, a paid order, a status change,
a note, an order batch) and prints one JSON summary line for the calling test. Cleans up what it made."""
import json
import sys

from woocommerce import API

url, key, secret, prefix = sys.argv[1:5]
api = API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=60)
out = {"client": "python woocommerce"}


def ok(response, *codes):
    if response.status_code not in codes:
        raise SystemExit(f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}")
    return response.json()


product = ok(api.post("products", {"name": f"{prefix} py", "sku": f"{prefix}-PY", "regular_price": "4.50",
                                   "manage_stock": True, "stock_quantity": 10}), 201)
order = ok(api.post("orders", {"set_paid": True,
                               "line_items": [{"product_id": product["id"], "quantity": 2}]}), 201)
others = [ok(api.post("orders", {"line_items": [{"product_id": product["id"], "quantity": 1}]}), 201)["id"]
          for _ in range(2)]
out["paid_status"] = order["status"]
out["stock_after_paid"] = ok(api.get(f"products/{product['id']}"), 200)["stock_quantity"]

# Paging: two pages of two, by id (stable), newest first.
first = api.get("orders", params={"per_page": 2, "page": 1, "orderby": "id"})
out["total"] = int(ok(first, 200) and first.headers.get("X-WP-Total", "0"))
out["total_pages"] = int(first.headers.get("X-WP-TotalPages", "0"))
out["pages"] = [[o["id"] for o in first.json()]]
second = api.get("orders", params={"per_page": 2, "page": 2, "orderby": "id"})
out["pages"].append([o["id"] for o in ok(second, 200)])
out["made"] = sorted([order["id"]] + others)

out["completed"] = ok(api.put(f"orders/{order['id']}", {"status": "completed"}), 200)["status"]
note = ok(api.post(f"orders/{order['id']}/notes", {"note": f"{prefix} note", "customer_note": False}), 201)
out["note"] = note["note"]
batch = ok(api.post("orders/batch", {"update": [{"id": order["id"], "customer_note": "from batch"}]}), 200)
out["batch_note"] = batch["update"][0]["customer_note"]
ok(api.post("orders/batch", {"delete": [order["id"]] + others}), 200)
ok(api.delete(f"products/{product['id']}", params={"force": True}), 200)
print(json.dumps(out))
