// Browser test: the supervisor page lists a late item (accepted 30 hours ago and not moved since), one past
// its due date and two results after a failed attempt (why, and what is due next), draws the charts, exports the waiting list as CSV, works by keyboard, and marks a due date
// provisional when the calendar lacks the year.
// Usage: node supervisor_test.mjs DOSSIER_SERVER SCREENSHOT_DIR
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { checkLogOut, launchBrowser, logInByKeyboard, openPage, startServer } from "./cdp.mjs";

const [serverBin, shotDir] = process.argv.slice(2);
const server = await startServer(serverBin);
let browser;
let failed = false;

// Opens the supervisor page of `target` and logs in as supervisor1 by keyboard: the focus starts on the username.
async function logIn(target) {
  const page = await openPage(browser.cdp, `${target.base}/supervisor`);
  await logInByKeyboard(page, "supervisor1");
  return page;
}
try {
  const token = async (username) =>
    (await server.api("POST", "/api/v1/login", { username, password: "demo" })).data.token;
  const clerk = await token("clerk1");
  const created = await server.api("POST", "/api/v1/dossiers", {
    procedure: { code: "1.005129", name: "Cấp phiếu lý lịch tư pháp" },
    applicant: { name: "Trịnh Văn Chậm", phone: "0911333444", address: "Ba Đình, Hà Nội", id_number: "001190000777" },
    office: "MC-HN-BD", service: "both",
  }, clerk);
  assert.equal(created.status, 201, JSON.stringify(created.data));
  const late = created.data.items[0].item_id;
  const scan = await server.api("POST", "/api/v1/scans", {
    event_id: crypto.randomUUID(), item_id: late, code: "EMA", site: "BC-HN01",
    occurred_at: new Date(Date.now() - 30 * 3600_000).toISOString(),
  }, clerk);
  assert.equal(scan.status, 201, JSON.stringify(scan.data));

  // Two results of counter dossiers whose delivery failed 56 hours ago: one held at the post office for the
  // citizen to collect, one refused (its return to the office is due at once).
  const staff = await token("staff1");
  const failedResult = async (name, reasonCode, action) => {
    const d = await server.api("POST", "/api/v1/dossiers", {
      procedure: { code: "1.001234", name: "Đăng ký khai sinh" },
      applicant: { name, phone: "0911555666", address: "Ba Đình, Hà Nội", id_number: "001190000888" },
      office: "MC-HN-BD", service: "receive",
    }, staff);
    assert.equal(d.status, 201, JSON.stringify(d.data));
    const made = await server.api("POST", `/api/v1/dossiers/${d.data.id}/result`, {}, staff);
    assert.equal(made.status, 201, JSON.stringify(made.data));
    const item = made.data.item_id;
    const steps = [["RES", "MC-HN-BD", staff, 60], ["EMA", "BC-HN01", clerk, 59], ["EMG", "BC-HN01", clerk, 58],
      ["EDG", "BC-HN01", clerk, 57], ["EMH", "BC-HN01", clerk, 56]];
    for (const [code, site, who, hoursAgo] of steps) {
      const body = { event_id: crypto.randomUUID(), item_id: item, code, site,
        occurred_at: new Date(Date.now() - hoursAgo * 3600_000).toISOString() };
      if (code === "EMH") Object.assign(body, { reason_code: reasonCode, action });
      const r = await server.api("POST", "/api/v1/scans", body, who);
      assert.equal(r.status, 201, `${code}: ${JSON.stringify(r.data)}`);
    }
    return item;
  };
  const held = await failedResult("Lê Thị Giữ", "absent", "hold_at_post_office");
  const refused = await failedResult("Phan Văn Từ", "refused", "return_to_sender");

  browser = await launchBrowser();
  const page = await logIn(server);
  await page.waitFor("!document.getElementById('report-view').hidden && document.querySelectorAll('#waiting tr[data-item]').length > 0",
    "the waiting list");

  // The late item is listed, with how long it waited over the limit of its step.
  const row = await page.eval(`document.querySelector('#waiting tr[data-item="${late}"]')?.innerText || ""`);
  assert.match(row, /Bưu điện đã nhận/, "its state in Vietnamese");
  assert.match(row, /Bưu cục Ba Đình/, "where it waits");
  assert.match(row, /quá \d+ giờ/, "how far over the limit");
  // The demo's result due on a past day is flagged.
  assert.ok(await page.eval("document.querySelectorAll('#waiting tr.past-due').length >= 1"), "a past-due row");
  // And its dossier is listed as late, with the reason in words.
  const lateText = await page.eval("document.querySelector('#late')?.innerText || ''");
  assert.ok(lateText.includes("Cơ quan giải quyết quá ngày hẹn trả"), `late dossier with its reason: ${lateText}`);
  // Each late dossier is named by its code or the number on its envelope, never by an internal id.
  assert.doesNotMatch(lateText, /#\d+/, lateText);
  // Charts: bars for the states and for on-time rates.
  assert.ok(await page.eval("document.querySelectorAll('#state-chart rect.bar').length >= 3"), "state chart bars");
  assert.ok(await page.eval("document.querySelectorAll('#ontime-chart rect.bar').length >= 1"), "on-time chart bars");
  // Hours with a decimal comma, as Vietnamese writes them.
  const median = await page.eval("document.querySelector('#transit tr td:nth-child(3)')?.textContent || ''");
  assert.match(median, /^\d+,\d$/, `transit median ${median}`);
  // A result waiting after a failed attempt says why, what the clerk did, and what is due next.
  const heldRow = await page.eval(`document.querySelector('#waiting tr[data-item="${held}"]')?.innerText || ""`);
  assert.match(heldRow, /Người nhận vắng nhà · Lưu tại bưu cục, chờ người nhận đến lấy/, heldRow);
  assert.match(heldRow, /Chờ người nhận đến lấy \/ awaiting collection/, heldRow);
  const refusedRow = await page.eval(`document.querySelector('#waiting tr[data-item="${refused}"]')?.innerText || ""`);
  assert.match(refusedRow, /Người nhận từ chối nhận/, refusedRow);
  assert.match(refusedRow, /Đủ điều kiện chuyển hoàn \/ return due/, refusedRow);
  assert.doesNotMatch(await page.eval("document.body.innerText"),
    /Trịnh Văn Chậm|0911333444|001190000777|Lê Thị Giữ|Phan Văn Từ|0911555666/);
  await page.screenshot(path.join(shotDir, "supervisor.png"));

  // On a phone (390 px): nothing makes the page wider than the screen (wide tables scroll inside themselves), and
  // the charts are drawn at their real width, so their 12 px labels are not shrunk to 6 px.
  await page.send("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 1, mobile: true });
  // The charts follow the new width by themselves (no reload).
  const chartScale = `(() => { const svg = document.querySelector('#ontime-chart svg');
    return svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 0; })()`;
  await page.waitFor(`(${chartScale}) > 0.95 && (${chartScale}) < 1.05`, "the charts redrawn at their real width", 5);
  assert.ok(await page.eval("document.querySelectorAll('#state-chart rect.bar').length >= 3"), "state chart bars");
  await page.waitFor("document.documentElement.scrollWidth <= window.innerWidth + 1",
    "a page no wider than the phone", 5);
  await page.screenshot(path.join(shotDir, "supervisor-phone.png"));
  await page.send("Emulation.clearDeviceMetricsOverride");

  // Export CSV: the page fetches it with the token and offers it as a download of the same rows.
  await page.eval("document.getElementById('export-waiting').click()");
  await page.waitFor("!!document.getElementById('export-waiting-link')", "the CSV download link");
  assert.match(await page.eval("document.getElementById('export-waiting-link').href"), /^blob:/);
  // The page's CSP keeps scripts from reading blob: URLs back; the same export, fetched as the page does:
  const supervisor = await token("supervisor1");
  const csv = await (await fetch(`${server.base}/api/v1/reports/waiting.csv`, {
    headers: { Authorization: `Bearer ${supervisor}` },
  })).text();
  assert.match(csv, /^\uFEFF?item_id,kind,state/);
  assert.ok(csv.includes(`${late},dossier,accepted,`), "the late item in the CSV");
  assert.match(await page.eval("document.getElementById('export-waiting-link').download"), /^waiting-\d{4}-\d{2}-\d{2}\.csv$/);

  // Narrow the report to the post office by keyboard-reachable controls: the figures follow.
  await page.eval("document.getElementById('site').value = 'BC-HN01'; document.getElementById('filter').requestSubmit()");
  await page.waitFor("document.getElementById('status').textContent.includes('BC-HN01') && !document.getElementById('status').textContent.includes('MC-HN-BD')",
    "the post office's report");
  assert.ok(await page.eval(`!!document.querySelector('#waiting tr[data-item="${late}"]')`), "still listed for its post office");

  const unlabelled = await page.eval(
    "[...document.querySelectorAll('input,select')].filter(i => !document.querySelector(`label[for=\"${i.id}\"]`) && !i.closest('label')).length");
  assert.equal(unlabelled, 0, "inputs without a label");

  // Shared PCs: "Đăng xuất" goes back to the login form, and the old token reads nothing any more.
  await checkLogOut(page, server.base, "dpost-supervisor", "report-view");

  // A server whose calendar lists no day off of this year (only 2000): the late dossier's due date is marked
  // provisional (tạm tính), since Tết and swapped days may move it.
  const stale = await startServer(serverBin, {
    files: { "calendar.json": JSON.stringify({ fixed_holidays: ["01-01"], years: { "2000": { holidays: [] } } }) },
    args: (dir) => ["--calendar", path.join(dir, "calendar.json")],
  });
  try {
    const stalePage = await logIn(stale);
    await stalePage.waitFor("!document.getElementById('report-view').hidden && document.querySelectorAll('#late tr[data-dossier]').length > 0",
      "the late dossiers");
    const staleLate = await stalePage.eval("document.querySelector('#late')?.innerText || ''");
    assert.ok(staleLate.includes("Tạm tính / provisional"), `a provisional due date: ${staleLate}`);
    const hint = await stalePage.eval("document.querySelector('#late .badge[title]')?.title || ''");
    assert.match(hint, /chưa có ngày nghỉ/, "the badge says why");
  } finally {
    stale.stop();
  }
  console.log("supervisor page: late item and past-due result listed, charts drawn, CSV exported; screenshot in", shotDir);
} catch (e) {
  failed = true;
  console.error("supervisor page test failed:", e);
} finally {
  if (browser) await browser.close();
  server.stop();
}
console.log(failed ? "0 passed, 1 failed" : "1 passed, 0 failed");
process.exit(failed ? 1 : 0);
