// WooCommerce's official JavaScript client (npm `@woocommerce/woocommerce-rest-api`), unmodified, against a
// store given as URL KEY SECRET PREFIX: lists orders page by page, then writes (a product, a paid order, a
// status change, a note, an order batch) and prints one JSON summary line for the calling test.
const WooCommerceRestApi = require("@woocommerce/woocommerce-rest-api").default;

const [url, key, secret, prefix] = process.argv.slice(2);
const api = new WooCommerceRestApi({ url, consumerKey: key, consumerSecret: secret, version: "wc/v3", timeout: 60000 });

async function main() {
  const out = { client: "@woocommerce/woocommerce-rest-api" };
  const product = (await api.post("products", {
    name: `${prefix} js`, sku: `${prefix}-JS`, regular_price: "4.50", manage_stock: true, stock_quantity: 10,
  })).data;
  const order = (await api.post("orders", { set_paid: true, line_items: [{ product_id: product.id, quantity: 2 }] })).data;
  const others = [];
  for (let i = 0; i < 2; i += 1) {
    others.push((await api.post("orders", { line_items: [{ product_id: product.id, quantity: 1 }] })).data.id);
  }
  out.paid_status = order.status;
  out.stock_after_paid = (await api.get(`products/${product.id}`)).data.stock_quantity;

  // Paging: two pages of two, by id (stable), newest first.
  const first = await api.get("orders", { per_page: 2, page: 1, orderby: "id" });
  out.total = Number(first.headers["x-wp-total"]);
  out.total_pages = Number(first.headers["x-wp-totalpages"]);
  out.pages = [first.data.map((o) => o.id)];
  const second = await api.get("orders", { per_page: 2, page: 2, orderby: "id" });
  out.pages.push(second.data.map((o) => o.id));
  out.made = [order.id, ...others].sort((a, b) => a - b);

  out.completed = (await api.put(`orders/${order.id}`, { status: "completed" })).data.status;
  out.note = (await api.post(`orders/${order.id}/notes`, { note: `${prefix} note`, customer_note: false })).data.note;
  out.batch_note = (await api.post("orders/batch", { update: [{ id: order.id, customer_note: "from batch" }] })).data.update[0].customer_note;
  await api.post("orders/batch", { delete: [order.id, ...others] });
  await api.delete(`products/${product.id}`, { force: true });
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  const response = error.response;
  console.error(response ? `${response.status} ${JSON.stringify(response.data)}` : String(error));
  process.exit(1);
});
