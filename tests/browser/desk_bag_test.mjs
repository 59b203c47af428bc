// Browser test: the one-stop desk page receives a whole bag typed by a USB barcode scanner, checks its items in
// against the manifest (one received, one with a broken seal, one missing when the bag is closed), opens the
// bag's handover record, and lists the day: what arrived and what is still awaited (an overdue handoff).
// Keyboard only from login to bag close. Usage: node desk_bag_test.mjs DOSSIER_SERVER SCREENSHOT_DIR
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { launchBrowser, logInByKeyboard, openPage, pressKey, startServer } from "./cdp.mjs";

const [serverBin, shotDir] = process.argv.slice(2);
const server = await startServer(serverBin);
let browser;
let failed = false;

const grouped = (id) => `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8, 11)} ${id.slice(11)}`;

// Text and the background behind it must contrast at least 4.5:1 (WCAG 2 AA), for every visible text on the page.
const CONTRAST_CHECK = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const e of document.querySelectorAll("body *")) {
    if (!e.getClientRects().length || getComputedStyle(e).visibility === "hidden") continue;
    if (e.closest(".sr-only")) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const a = lum(rgb(getComputedStyle(e).color).slice(0, 3));
    const b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(e.tagName + "." + e.className + " '" + e.textContent.trim().slice(0, 30) + "' " + ratio.toFixed(2));
  }
  return bad;
})()`;

const UNLABELLED =
  "[...document.querySelectorAll('input')].filter(i => !document.querySelector(`label[for=\"${i.id}\"]`) && !i.closest('label')).map(i => i.id)";

try {
  // Four dossiers for MC-HN-BD: three go in a bag from BC-HN01, one is handed over on its own (EMI) six hours
  // ago and is not confirmed: it stays awaited, overdue (the default is 240 minutes).
  const clerk = (await server.api("POST", "/api/v1/login", { username: "clerk1", password: "demo" })).data.token;
  const body = {
    procedure: { code: "1.005129", name: "Cấp phiếu lý lịch tư pháp" },
    applicant: { name: "Đỗ Thị Lan", phone: "0911222333", address: "Ba Đình, Hà Nội", id_number: "001190000099" },
    office: "MC-HN-BD", service: "both",
  };
  const items = [];
  for (let i = 0; i < 4; i++) {
    const r = await server.api("POST", "/api/v1/dossiers", body, clerk);
    assert.equal(r.status, 201, `dossier: ${JSON.stringify(r.data)}`);
    items.push(r.data.items[0].item_id);
  }
  const [itemOk, itemSeal, itemMissing, itemAwaited] = items;
  const scanAs = async (itemId, codes, start) => {
    let t = start;
    for (const code of codes) {
      t += 60_000;
      const r = await server.api("POST", "/api/v1/scans", {
        event_id: crypto.randomUUID(), item_id: itemId, code, site: "BC-HN01", occurred_at: new Date(t).toISOString(),
      }, clerk);
      assert.equal(r.status, 201, `${code} ${itemId}: ${JSON.stringify(r.data)}`);
    }
  };
  for (const id of [itemOk, itemSeal, itemMissing]) await scanAs(id, ["EMA", "EMG", "EDG"], Date.now() - 3600_000);
  await scanAs(itemAwaited, ["EMA", "EMG", "EDG", "EMI"], Date.now() - 6 * 3600_000);

  const made = await server.api("POST", "/api/v1/bags", { destination: "MC-HN-BD", items: [itemOk, itemSeal, itemMissing] }, clerk);
  assert.equal(made.status, 201, `bag: ${JSON.stringify(made.data)}`);
  const bagId = made.data.bag_id;
  const sent = await server.api("POST", `/api/v1/bags/${bagId}/dispatch`, { event_id: crypto.randomUUID() }, clerk);
  assert.equal(sent.status, 200, `dispatch: ${JSON.stringify(sent.data)}`);
  assert.equal(sent.data.state, "dispatched");

  browser = await launchBrowser();
  const page = await openPage(browser.cdp, `${server.base}/desk`);
  const active = () => page.eval("document.activeElement.id");
  const rowOutcome = (id) => `document.querySelector('#bag-items tr[data-item="${id}"]')?.dataset.outcome`;
  const summary = (key) => page.eval(`document.querySelector('#bag-summary li[data-key="${key}"] .n').textContent`);

  // Keyboard only: the username field has the focus; Tab to the password; Enter submits.
  await logInByKeyboard(page, "staff1");
  await page.waitFor("!document.getElementById('desk-view').hidden", "the desk after login");
  assert.equal(await active(), "scan", "the scan field has the focus after login");

  // The scanner types the bag id (here in lower case with spaces) and Enter: the bag is received, its manifest shown.
  await page.type(`bag ${bagId.slice(3, 6)} ${bagId.slice(6, 9)} ${bagId.slice(9)}`.toLowerCase());
  await pressKey(page, "Enter");
  await page.waitFor("!document.getElementById('bag-view').hidden && document.querySelectorAll('#bag-items tr').length === 3",
    "the bag's manifest");
  assert.match(await page.eval("document.getElementById('feedback').textContent"), new RegExp(`Đã nhận túi ${bagId}`));
  assert.equal(await page.eval("document.getElementById('bag-id').textContent"), bagId);
  assert.equal(await summary("expected"), "3");
  assert.equal(await summary("waiting"), "3");
  for (const id of [itemOk, itemSeal, itemMissing]) assert.equal(await page.eval(rowOutcome(id)), "waiting");
  assert.match(await page.eval("document.getElementById('bag-items').textContent"), /Chờ kiểm/);
  assert.equal(await page.eval("document.getElementById('scan-mode').hidden"), false, "the page says a bag is being checked in");
  assert.equal(await active(), "scan");
  const asStaff = (await server.api("POST", "/api/v1/login", { username: "staff1", password: "demo" })).data.token;
  assert.equal((await server.api("GET", `/api/v1/bags/${bagId}`, null, asStaff)).data.state, "receiving");

  // The first item comes out fine.
  await page.type(grouped(itemOk));
  await pressKey(page, "Enter");
  await page.waitFor(`${rowOutcome(itemOk)} === 'received'`, "the first item received");
  assert.match(await page.eval("document.getElementById('feedback').className"), /\bok\b/);
  assert.equal(await summary("received"), "1");
  assert.equal(await active(), "scan", "focus returns to the scan field");

  // The second has a broken seal: Tab to the box, Space ticks it, Shift+Tab back to the scan field, scan.
  await pressKey(page, "Tab");
  assert.equal(await active(), "seal-broken");
  await pressKey(page, " ");
  assert.equal(await page.eval("document.getElementById('seal-broken').checked"), true, "Space ticks the box");
  await pressKey(page, "Tab", { shift: true });
  assert.equal(await active(), "scan");
  await page.type(itemSeal.toLowerCase());
  await pressKey(page, "Enter");
  await page.waitFor(`${rowOutcome(itemSeal)} === 'damaged'`, "the second item damaged");
  assert.match(await page.eval("document.getElementById('feedback').className"), /\bwarn\b/);
  assert.match(await page.eval("document.getElementById('feedback').textContent"), /hư hỏng/);
  assert.equal(await page.eval("document.getElementById('seal-broken').checked"), false, "the box is cleared for the next scan");
  assert.equal(await summary("damaged"), "1");
  assert.equal(await summary("waiting"), "1");
  assert.equal(await active(), "scan");

  // Tab to "Đóng túi"; the first Enter asks to confirm (one item still waiting), the second closes the bag.
  for (let i = 0; i < 20 && (await active()) !== "bag-close"; i++) await pressKey(page, "Tab");
  assert.equal(await active(), "bag-close", "the close button is reachable with Tab");
  await pressKey(page, "Enter");
  await page.waitFor("document.getElementById('bag-close').classList.contains('danger')", "the close confirmation");
  assert.match(await page.eval("document.getElementById('bag-close').textContent"), /THIẾU/);
  assert.equal(await active(), "bag-close");
  await pressKey(page, "Enter");
  await page.waitFor(`${rowOutcome(itemMissing)} === 'missing'`, "the third item missing after close");
  assert.match(await page.eval("document.getElementById('feedback').className"), /\bfail\b/, "missing items are red");
  assert.match(await page.eval("document.getElementById('feedback').textContent"), /THIẾU 1/);
  assert.equal(await summary("missing"), "1");
  assert.equal(await summary("received"), "1");
  assert.equal(await summary("damaged"), "1");
  assert.equal(await summary("waiting"), "0");
  assert.match(await page.eval("document.querySelector('#bag-summary li[data-key=\"missing\"]').className"), /fail/);
  assert.match(await page.eval(`document.querySelector('#bag-items tr[data-item="${itemMissing}"] .badge').className`), /fail/);
  assert.equal(await page.eval("document.getElementById('bag-slip').hidden"), false, "the handover record is offered");
  assert.equal(await page.eval("document.getElementById('scan-mode').hidden"), true, "scans are single receipts again");
  assert.equal(await active(), "scan", "focus returns to the scan field after close");
  await page.eval("document.getElementById('feedback').scrollIntoView()");
  await page.screenshot(path.join(shotDir, "desk-bag.png"));

  // The handover record opens from a blob: URL. Spies keep the URL opened and the blob behind it (the page's CSP
  // lets it fetch nothing but 'self', so the test reads the blob itself).
  await page.eval("window.__opened = []; window.__blobs = []; { const open = window.open.bind(window); " +
    "window.open = (u, t) => { window.__opened.push(u); return open(u, t); }; const make = URL.createObjectURL; " +
    "URL.createObjectURL = (b) => { window.__blobs.push(b); return make(b); }; } true");
  for (let i = 0; i < 20 && (await active()) !== "bag-slip"; i++) await pressKey(page, "Tab");
  assert.equal(await active(), "bag-slip", "the handover record button is reachable with Tab");
  await pressKey(page, "Enter");
  await page.waitFor("window.__opened.length === 1", "the handover record to open");
  const pdfHead = (i) => page.eval(
    `window.__blobs[${i}].arrayBuffer().then(b => [new TextDecoder().decode(new Uint8Array(b).slice(0, 5)), b.byteLength, window.__blobs[${i}].type])`);
  const [slipMagic, slipSize, slipType] = await pdfHead(0);
  assert.equal(slipType, "application/pdf");
  assert.match(await page.eval("window.__opened[0]"), /^blob:/);
  assert.equal(slipMagic, "%PDF-", "the handover record is a PDF");
  assert.ok(slipSize > 1000, "the handover record has content");

  // After close, a scan is a single receipt again (RCV via /scans): the missing item turns up on its own.
  await page.eval("document.getElementById('scan').focus()");
  await page.type(grouped(itemMissing));
  await pressKey(page, "Enter");
  await page.waitFor(`[...document.querySelectorAll('#received tr')].some(r => r.textContent.includes('${grouped(itemMissing)}') && !r.textContent.includes('túi'))`,
    "the single receipt of the missing item");
  assert.match(await page.eval("document.getElementById('feedback').textContent"), /Đã nhận/);

  // The day: the item handed over outside the bag is still awaited, overdue (red, "quá hạn xác nhận"); the three
  // items arrived today.
  await page.waitFor(`document.querySelector('#awaited tr[data-item="${itemAwaited}"]') && ` +
    `!document.querySelector('#awaited tr[data-item="${itemMissing}"]') && ` +
    `document.querySelectorAll('#arrived tr[data-item]').length === 3`, "the day's lists");
  const awaitedRow = `document.querySelector('#awaited tr[data-item="${itemAwaited}"]')`;
  assert.match(await page.eval(`${awaitedRow}.textContent`), /quá hạn xác nhận/i);
  assert.match(await page.eval(`${awaitedRow}.className`), /overdue/);
  assert.equal(await page.eval(`getComputedStyle(${awaitedRow}.querySelector('.fail-text')).color`), "rgb(122, 12, 7)", "overdue in red");
  for (const id of [itemOk, itemSeal, itemMissing]) {
    assert.ok(await page.eval(`!!document.querySelector('#arrived tr[data-item="${id}"]')`), `${id} listed as arrived today`);
  }
  assert.match(await page.eval(`document.querySelector('#arrived tr[data-item="${itemSeal}"]').textContent`), /Hư hỏng/);
  assert.match(await page.eval(`document.querySelector('#arrived tr[data-item="${itemMissing}"]').textContent`), /Quét lẻ/);

  // "Làm mới" by keyboard refreshes the lists; "Phiếu kiểm soát bàn giao hôm nay" opens the day's slip (PDF).
  await page.eval("document.getElementById('today-status').textContent = ''");
  await page.eval("document.getElementById('today-refresh').focus()");
  await pressKey(page, "Enter");
  await page.waitFor("document.getElementById('today-status').textContent.includes('Cập nhật')", "the refresh");
  await pressKey(page, "Tab");
  assert.equal(await active(), "today-slip");
  await pressKey(page, "Enter");
  await page.waitFor("window.__opened.length === 2", "the day's handover slip to open");
  const [daySlipMagic] = await pdfHead(1);
  assert.equal(daySlipMagic, "%PDF-", "the day's handover slip is a PDF");
  // The scanner types while a button has the focus: the characters go to the scan field, not lost.
  assert.equal(await active(), "today-slip");
  await pressKey(page, "E");
  assert.equal(await active(), "scan", "typing on a button moves to the scan field");
  assert.equal(await page.eval("document.getElementById('scan').value"), "E");
  await page.eval("document.getElementById('scan').value = ''");
  await page.eval("document.getElementById('today-view').scrollIntoView()");
  await page.screenshot(path.join(shotDir, "desk-today.png"));

  // The server's record, read as staff1.
  const bag = (await server.api("GET", `/api/v1/bags/${bagId}`, null, asStaff)).data;
  assert.equal(bag.state, "closed");
  assert.deepEqual(
    { received: bag.summary.received, damaged: bag.summary.damaged, missing: bag.summary.missing, extra: bag.summary.extra },
    { received: 1, damaged: 1, missing: 1, extra: 0 });
  for (const id of [itemOk, itemSeal, itemMissing]) {
    const item = (await server.api("GET", `/api/v1/items/${id}`, null, asStaff)).data;
    assert.equal(item.events.at(-1).code, "RCV", `${id}: last event`);
    assert.equal(item.state, "received");
  }
  const problems = (await server.api("GET", "/api/v1/handoffs/problems", null, asStaff)).data.problems;
  assert.ok(problems.some((p) => p.item_id === itemSeal && p.problem === "seal_broken"), `seal_broken listed: ${JSON.stringify(problems)}`);
  assert.ok(problems.some((p) => p.item_id === itemMissing && p.problem === "missing" && p.bag_id === bagId), "missing listed");
  const pending = (await server.api("GET", "/api/v1/handoffs/pending", null, asStaff)).data.pending;
  assert.ok(pending.some((p) => p.item_id === itemAwaited && p.overdue), "the item outside the bag is awaited and overdue");

  // Every input has a label; every visible text contrasts at least 4.5:1.
  assert.deepEqual(await page.eval(UNLABELLED), [], "inputs without a label");
  assert.deepEqual(await page.eval(CONTRAST_CHECK), [], "text with contrast under 4.5:1");
  console.log(`desk bag page: bag ${bagId} received by keyboard, 1 received, 1 seal broken, 1 missing; ` +
    `1 overdue handoff listed; screenshots in ${shotDir}`);
} catch (e) {
  failed = true;
  console.error("desk bag page test failed:", e);
} finally {
  if (browser) await browser.close();
  server.stop();
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
