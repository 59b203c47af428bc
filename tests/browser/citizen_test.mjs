// Browser test: a citizen opens the QR link on a phone-sized screen, sees both legs of the dossier on one
// timeline with who signed for the result (masked), and rates the delivery from the page's plain HTML form.
// Usage: node citizen_test.mjs DOSSIER_SERVER SCREENSHOT_DIR
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { launchBrowser, openPage, startServer } from "./cdp.mjs";

const [serverBin, shotDir] = process.argv.slice(2);
const server = await startServer(serverBin);
let browser;
let failed = false;
try {
  const login = async (username) =>
    (await server.api("POST", "/api/v1/login", { username, password: "demo" })).data.token;
  const clerk = await login("clerk1");
  const staff = await login("staff1");
  const created = await server.api("POST", "/api/v1/dossiers", {
    procedure: { code: "1.005129", name: "Cấp phiếu lý lịch tư pháp", category: "Lý lịch tư pháp" },
    applicant: { name: "Hoàng Thị Mai", phone: "0911222444", address: "Ba Đình, Hà Nội", id_number: "001190000123" },
    office: "MC-HN-BD", service: "both", due_date: "2026-12-20",
  }, clerk);
  assert.equal(created.status, 201, JSON.stringify(created.data));
  const dossierItem = created.data.items[0].item_id;
  let t = Date.now() - 6 * 3600_000;
  const scan = async (token, item, code, site, extra = {}) => {
    t += 15 * 60_000;
    const r = await server.api("POST", "/api/v1/scans", {
      event_id: crypto.randomUUID(), item_id: item, code, site, occurred_at: new Date(t).toISOString(), ...extra,
    }, token);
    assert.equal(r.status, 201, `${code}: ${JSON.stringify(r.data)}`);
  };
  for (const code of ["EMA", "EMG", "EDG", "EMI"]) await scan(clerk, dossierItem, code, "BC-HN01");
  await scan(staff, dossierItem, "RCV", "MC-HN-BD");
  const result = await server.api("POST", `/api/v1/dossiers/${created.data.id}/result`, {}, staff);
  assert.equal(result.status, 201, JSON.stringify(result.data));
  const resultItem = result.data.item_id;
  await scan(staff, resultItem, "RES", "MC-HN-BD");
  for (const code of ["EMA", "EMG", "EDG"]) await scan(clerk, resultItem, code, "BC-HN01");
  await scan(clerk, resultItem, "EMI", "BC-HN01", { recipient: { name: "Hoàng Văn Nam", id_checked: true, relation: "chồng", id_document: { type: "cccd", number: "001080000009" }, authorization: { number: "UQ-12/2026", date: "2026-12-01" } } });
  const token = (await server.api("GET", `/api/v1/items/${dossierItem}`, null, clerk)).data.tracking_token;

  browser = await launchBrowser();
  const page = await openPage(browser.cdp, "about:blank");
  // A small phone: 360 × 740 CSS pixels.
  await page.send("Emulation.setDeviceMetricsOverride", { width: 360, height: 740, deviceScaleFactor: 2, mobile: true });
  await page.send("Page.navigate", { url: `${server.base}/t/${token}` });
  await page.waitFor("document.readyState === 'complete' && !!document.querySelector('ol.timeline')", "the timeline");

  const text = await page.eval("document.body.innerText");
  assert.match(text, /Hồ sơ → cơ quan/);
  assert.match(text, /Kết quả → công dân/);
  assert.match(text, /Người ký nhận/);
  assert.match(text, /Ho\*\*\* V\*\* N/, "the signer, masked");
  assert.doesNotMatch(text, /Hoàng Văn Nam|Hoàng Thị Mai|0911222444|001190000123/, "no personal data in full");
  assert.match(text, /20\/12\/2026/, "the result's due date");
  const steps = await page.eval("document.querySelectorAll('ol.timeline li').length");
  assert.equal(steps, 10, "every event of both legs on one timeline");
  const first = await page.eval("document.querySelector('ol.timeline li').className");
  assert.equal(first, "leg-result", "the newest step first");
  // Nothing wider than the phone: no sideways scrolling.
  assert.ok(await page.eval("document.documentElement.scrollWidth <= 360"), "the page fits a 360 px screen");
  await page.screenshot(path.join(shotDir, "citizen-timeline.png"));

  // Rate the delivery: every input labelled, the form works without JavaScript.
  const unlabelled = await page.eval(
    "[...document.querySelectorAll('input')].filter(i => !document.querySelector(`label[for=\"${i.id}\"]`) && !i.closest('label')).length");
  assert.equal(unlabelled, 0, "inputs without a label");
  await page.eval("document.getElementById('rating5').click()");
  await page.eval("document.getElementById('comment').focus()");
  await page.type("Giao nhanh, bưu tá lịch sự");
  await page.eval("document.getElementById('comment').form.submit()");
  await page.waitFor("document.readyState === 'complete' && document.body.innerText.includes('Cảm ơn bạn đã đánh giá')",
    "the thank-you note");
  await page.screenshot(path.join(shotDir, "citizen-rated.png"));
  const seen = await server.api("GET", `/api/v1/items/${resultItem}`, null, staff);
  assert.equal(seen.data.citizen_requests.length, 1);
  assert.equal(seen.data.citizen_requests[0].rating, 5);
  assert.equal(seen.data.citizen_requests[0].comment, "Giao nhanh, bưu tá lịch sự");
  console.log("citizen page: 10 steps of both legs shown on a 360 px screen, rating recorded; screenshots in", shotDir);
} catch (e) {
  failed = true;
  console.error("citizen page test failed:", e);
} finally {
  if (browser) await browser.close();
  server.stop();
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
