// Browser test: the one-stop desk page receives an item typed by a USB barcode scanner (the id, then Enter,
// into the focused field), with keyboard-only use from login to receipt, refuses one that has not arrived, and
// tells a returned result (refused by the citizen) apart from a routine receipt.
// Usage: node desk_test.mjs DOSSIER_SERVER SCREENSHOT_DIR
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { checkLogOut, launchBrowser, logInByKeyboard, openPage, startServer } from "./cdp.mjs";

const [serverBin, shotDir] = process.argv.slice(2);
const server = await startServer(serverBin);
let browser;
let failed = false;
try {
  // An item the post has delivered to the office MC-HN-BD, and one still at the citizen's door.
  const clerk = (await server.api("POST", "/api/v1/login", { username: "clerk1", password: "demo" })).data.token;
  const body = {
    procedure: { code: "1.005129", name: "Cấp phiếu lý lịch tư pháp" },
    applicant: { name: "Đỗ Thị Lan", phone: "0911222333", address: "Ba Đình, Hà Nội", id_number: "001190000099" },
    office: "MC-HN-BD", service: "both",
  };
  const delivered = (await server.api("POST", "/api/v1/dossiers", body, clerk)).data.items[0].item_id;
  const waiting = (await server.api("POST", "/api/v1/dossiers", body, clerk)).data.items[0].item_id;
  let t = Date.now() - 3600_000;
  for (const code of ["EMA", "EMG", "EDG", "EMI"]) {
    t += 60_000;
    const r = await server.api("POST", "/api/v1/scans", {
      event_id: crypto.randomUUID(), item_id: delivered, code, site: "BC-HN01", occurred_at: new Date(t).toISOString(),
    }, clerk);
    assert.equal(r.status, 201, `${code}: ${JSON.stringify(r.data)}`);
  }

  browser = await launchBrowser();
  const page = await openPage(browser.cdp, `${server.base}/desk`);
  // Keyboard only: the username field has the focus; Tab to the password; Enter submits.
  await logInByKeyboard(page, "staff1");
  await page.waitFor("!document.getElementById('desk-view').hidden", "the desk after login");
  assert.equal(await page.eval("document.activeElement.id"), "scan", "the scan field has the focus after login");

  // The USB scanner types the id as printed (with spaces) and Enter.
  const printed = `${delivered.slice(0, 2)} ${delivered.slice(2, 5)} ${delivered.slice(5, 8)} ${delivered.slice(8, 11)} ${delivered.slice(11)}`;
  await page.type(printed);
  await page.pressEnter();
  await page.waitFor("document.getElementById('feedback').className.includes('ok')", "the green confirmation");
  assert.match(await page.eval("document.getElementById('feedback').textContent"), /Đã nhận/);
  assert.equal(await page.eval("document.activeElement.id"), "scan", "focus returns to the scan field");
  await page.screenshot(path.join(shotDir, "desk-received.png"));

  const staff = (await server.api("POST", "/api/v1/login", { username: "staff1", password: "demo" })).data.token;
  const item = await server.api("GET", `/api/v1/items/${delivered}`, null, staff);
  assert.equal(item.data.state, "received", "the server recorded the receipt");
  assert.equal(item.data.events.at(-1).code, "RCV");

  // An item that has not arrived: red, with the reason in Vietnamese, nothing recorded.
  await page.type(waiting);
  await page.pressEnter();
  await page.waitFor("document.getElementById('feedback').className.includes('fail')", "the red refusal");
  const refusal = await page.eval("document.getElementById('feedback').textContent");
  assert.match(refusal, /Chưa thể xác nhận/);
  // The English half is plain words too, not the API's message with event codes and state names.
  assert.match(refusal, /Cannot confirm it yet: the item is /, refusal);
  assert.doesNotMatch(refusal, /allowed next|RCV|_/, refusal);
  // And the refusal is listed with the session's scans.
  assert.match(await page.eval("document.getElementById('received').innerText"), /Từ chối: .* \/ refused: /);
  await page.screenshot(path.join(shotDir, "desk-refused.png"));
  assert.equal((await server.api("GET", `/api/v1/items/${waiting}`, null, staff)).data.events.length, 0);

  // A result the citizen refused comes back (EMH refused, RTS): the desk confirms it in amber, with the reason.
  const dossier = await server.api("POST", "/api/v1/dossiers", { ...body, service: "receive" }, staff);
  assert.equal(dossier.status, 201, JSON.stringify(dossier.data));
  const made = await server.api("POST", `/api/v1/dossiers/${dossier.data.id}/result`, {}, staff);
  assert.equal(made.status, 201, JSON.stringify(made.data));
  const back = made.data.item_id;
  const steps = [
    ["RES", "MC-HN-BD", staff, {}], ["EMA", "BC-HN01", clerk, {}], ["EMG", "BC-HN01", clerk, {}],
    ["EDG", "BC-HN01", clerk, {}],
    ["EMH", "BC-HN01", clerk, { reason_code: "refused", action: "return_to_sender", reason: "Không nhận" }],
    ["RTS", "BC-HN01", clerk, {}],
  ];
  for (const [code, site, token, extra] of steps) {
    t += 60_000;
    const r = await server.api("POST", "/api/v1/scans", {
      event_id: crypto.randomUUID(), item_id: back, code, site, occurred_at: new Date(t).toISOString(), ...extra,
    }, token);
    assert.equal(r.status, 201, `${code}: ${JSON.stringify(r.data)}`);
  }
  await page.type(back);
  await page.pressEnter();
  await page.waitFor("document.getElementById('feedback').textContent.includes('chuyển hoàn')", "the returned-result notice");
  const notice = await page.eval("document.getElementById('feedback').textContent");
  assert.match(notice, /bị chuyển hoàn đã về/);
  assert.match(notice, /Lý do: Người nhận từ chối nhận/);
  assert.match(await page.eval("document.getElementById('feedback').className"), /warn/);
  await page.screenshot(path.join(shotDir, "desk-returned.png"));
  // A result has no result of its own to create: its row has no such button.
  assert.equal(await page.eval(`[...document.querySelectorAll('#received tr')].find(r => r.textContent.includes('chuyển hoàn')).querySelectorAll('button').length`), 0);
  assert.equal((await server.api("GET", `/api/v1/items/${back}`, null, staff)).data.state, "returned");
  await page.waitFor(`[...document.querySelectorAll('#arrived tr')].some(r => r.dataset.item === '${back}' && r.textContent.includes('Kết quả chuyển hoàn'))`,
    "the returned result in today's arrivals");

  // Every input has a label.
  const unlabelled = await page.eval(
    "[...document.querySelectorAll('input')].filter(i => !document.querySelector(`label[for=\"${i.id}\"]`) && !i.closest('label')).length");
  assert.equal(unlabelled, 0, "inputs without a label");

  // Shared PCs: "Đăng xuất" goes back to the login form, and the old token reads nothing any more.
  await checkLogOut(page, server.base, "dpost-desk", "desk-view");
  console.log("desk page: 1 receipt confirmed by keyboard, 1 refused, 1 returned result; screenshots in", shotDir);
} catch (e) {
  failed = true;
  console.error("desk page test failed:", e);
} finally {
  if (browser) await browser.close();
  server.stop();
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
