// Postal clerk's page (phone or laptop): choose the event, then scan items with a USB barcode scanner (which
// types the id and Enter into the focused field) or type the id. Every answer is shown in colour and text and
// heard as a tone; this session's scans are listed with a button that opens each item's label.
"use strict";

// Event codes as the clerk reads them: [Vietnamese, English].
const EVENTS = {
  EMA: ["Nhận gửi", "picked up"],
  EDD: ["Đến trung tâm khai thác", "into sorting"],
  EDE: ["Rời trung tâm khai thác", "out of sorting"],
  EMG: ["Đến bưu cục phát", "at the delivery office"],
  EDG: ["Đi phát", "out for delivery"],
  EMH: ["Phát không thành công", "failed attempt"],
  EMI: ["Phát thành công", "delivered"],
  RCV: ["Cơ quan xác nhận đã nhận", "office confirms receipt"],
  RES: ["Cơ quan giao kết quả cho bưu điện", "result handed to the post"],
  RTS: ["Chuyển hoàn", "return to sender"],
};

// Item states (the server's wording): [Vietnamese, English].
const STATES = {
  created: ["Đã tạo, chưa giao cho bưu điện", "created, not handed to the post"],
  handed_to_post: ["Đang chờ bưu điện nhận", "waiting for the post to accept it"],
  accepted: ["Bưu điện đã nhận gửi", "accepted by the post"],
  at_sorting: ["Đang ở trung tâm khai thác", "at a sorting centre"],
  left_sorting: ["Đã rời trung tâm khai thác", "left the sorting centre"],
  at_delivery_office: ["Đã đến bưu cục phát", "at the delivery post office"],
  out_for_delivery: ["Đang phát", "out for delivery"],
  attempt_failed: ["Phát không thành công, chờ phát lại", "attempt failed, awaiting a second attempt"],
  out_for_redelivery: ["Đang phát lại", "out for a second attempt"],
  attempts_exhausted: ["Phát không thành công lần hai, chờ chuyển hoàn", "second attempt failed, awaiting return"],
  delivered: ["Đã giao, chờ cơ quan xác nhận", "delivered, awaiting the office's confirmation"],
  received: ["Cơ quan đã nhận hồ sơ", "the office received the dossier"],
  returning: ["Đang chuyển hoàn", "being returned to sender"],
  returned: ["Đã chuyển hoàn cho người gửi", "returned to sender"],
};

// The codes a postal clerk records (RES too, but only at the office counter).
const POST_CODES = ["EMA", "EDD", "EDE", "EMG", "EDG", "EMH", "EMI", "RTS", "RES"];

const VIETNAM_OFFSET_MS = 7 * 3600 * 1000;  // Vietnam keeps UTC+7 all year
const MAX_ROWS = 200;

const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("dpost-clerk") || "null");
let audio = null;
let scanQueue = Promise.resolve();  // scans are sent one after the other, in the order they were typed

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// "EH000000045VN" as printed under the barcode: "EH 000 000 045 VN".
function grouped(id) {
  return id.length === 13 ? `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8, 11)} ${id.slice(11)}` : id;
}

// What a scanner or a person typed, as the API stores it: no spaces or dashes, upper case.
function canonical(text) {
  return text.replace(/[\s-]+/g, "").toUpperCase();
}

// Times as the clerk reads them, in Vietnam's time whatever the device's zone: "09:15".
function timeText(iso) {
  const ms = iso ? Date.parse(iso) : Date.now();
  return new Date(ms + VIETNAM_OFFSET_MS).toISOString().slice(11, 16);
}

function stateText(state, kind) {
  if (state === "delivered" && kind && kind !== "dossier") return ["Đã phát cho người nhận", "delivered to the recipient"];
  return STATES[state] || [state || "?", state || "?"];
}

function el(tag, className, text, lang) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  if (lang) node.lang = lang;
  return node;
}

// Vietnamese first, English after it in small type.
function bilingual(tag, className, vi, en) {
  const node = el(tag, className, vi);
  if (en) node.append(" ", el("span", "en", en, "en"));
  return node;
}

function tone(kind) {
  try {
    audio = audio || new AudioContext();
    const notes = kind === "ok" ? [880] : kind === "warn" ? [660, 660] : [220, 180];
    notes.forEach((f, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = f;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      const start = audio.currentTime + i * 0.18;
      osc.start(start);
      osc.stop(start + (kind === "ok" ? 0.12 : 0.15));
    });
  } catch (e) {
    // No sound device: the colour and the text still tell.
  }
}

function feedback(kind, vi, en, extra) {
  const box = $("feedback");
  box.className = `feedback ${kind}`;
  box.textContent = vi;
  if (en) box.append(" ", el("span", "en", en, "en"));
  if (extra) box.append(" ", extra);
  tone(kind);
  // On a phone with the keyboard open the answer sits below the fold: bring it into view (the scan field
  // keeps the focus, so the next scan still goes in).
  if (typeof box.scrollIntoView === "function") box.scrollIntoView({ block: "nearest" });
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (session) headers.Authorization = `Bearer ${session.token}`;
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (response.status === 401 && path !== "/api/v1/login") showLogin("Phiên đăng nhập đã hết hạn. Session expired.");
  return { status: response.status, data };
}

// Fetches a PDF with the token and opens it in a new tab from a blob: URL (the page's CSP allows no other
// way to show an authenticated document). When the browser blocks the new tab, a link in the feedback opens it.
async function openPdf(path, vi, en) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  } catch (e) {
    feedback("fail", "Mất kết nối: chưa mở được tệp PDF.", "Connection lost: could not open the PDF.");
    return false;
  }
  if (response.status === 401) {
    showLogin("Phiên đăng nhập đã hết hạn. Session expired.");
    return false;
  }
  if (!response.ok) {
    let why = "";
    try {
      why = (await response.json()).error.message;
    } catch (e) {
      why = `HTTP ${response.status}`;
    }
    feedback("fail", `Không mở được ${vi.toLowerCase()}.`, `Could not open the ${en.toLowerCase()}: ${why}`);
    return false;
  }
  const url = URL.createObjectURL(await response.blob());
  setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
  const opened = window.open(url, "_blank");
  if (!opened) {
    const link = el("a", "", `Mở ${vi.toLowerCase()} (PDF)`);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    feedback("warn", `${vi} đã sẵn sàng.`, `${en} is ready: the browser blocked the new tab.`, link);
    return "link";
  }
  return "opened";
}

// --- login

function showLogin(message) {
  session = null;
  sessionStorage.removeItem("dpost-clerk");
  $("clerk-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("username").focus();
}

function showClerk() {
  $("login-view").hidden = true;
  $("clerk-view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${session.username} · ${session.site}`;
  const saved = sessionStorage.getItem("dpost-clerk-event");
  if (saved && $(`ev-${saved}`)) $(`ev-${saved}`).checked = true;
  updateChooser();
  renderRows();
  $("scan").focus();
}

async function login(event) {
  event.preventDefault();
  let answer;
  try {
    answer = await api("POST", "/api/v1/login", { username: $("username").value.trim(), password: $("password").value });
  } catch (e) {
    $("login-error").textContent = "Mất kết nối, hãy thử lại. Connection lost, try again.";
    return;
  }
  const { status, data } = answer;
  $("password").value = "";
  if (status !== 200) {
    $("login-error").textContent = status === 429
      ? "Đăng nhập sai quá nhiều lần, hãy thử lại sau. Too many attempts."
      : "Sai tên đăng nhập hoặc mật khẩu. Wrong username or password.";
    $("password").focus();
    return;
  }
  if (data.user.role !== "clerk") {
    $("login-error").textContent = "Trang này dành cho nhân viên bưu chính. This page is for postal clerks.";
    return;
  }
  session = { token: data.token, username: data.user.username, site: data.user.site };
  sessionStorage.setItem("dpost-clerk", JSON.stringify(session));
  showClerk();
}

async function logout() {
  try {
    await api("POST", "/api/v1/logout", {});
  } catch (e) {
    // The session ends here either way; the server's expires on its own.
  }
  showLogin();
}

// --- the event chooser

function chosenCode() {
  const checked = document.querySelector('input[name="code"]:checked');
  return checked ? checked.value : "EMA";
}

function updateChooser() {
  const code = chosenCode();
  $("emi-fields").hidden = code !== "EMI";
  $("emh-fields").hidden = code !== "EMH";
  const [vi, en] = EVENTS[code];
  $("chosen-vi").textContent = `${vi} (${code})`;
  $("chosen-en").textContent = `will record: ${en}`;
  sessionStorage.setItem("dpost-clerk-event", code);
}

// The event's extra fields, read for one scan. Returns { fields } or { missing: [element, vi, en] }.
function extraFields(code) {
  if (code === "EMH") {
    const select = $("reason");
    const reasonCode = select.value;
    const action = $("action").value;
    const note = $("reason-note").value.trim();
    if (!reasonCode) return { missing: [select, "Chọn lý do phát không thành công rồi quét lại.", "Choose why the delivery failed, then scan again."] };
    if (!action) return { missing: [$("action"), "Chọn việc đã làm rồi quét lại.", "Choose the action taken, then scan again."] };
    if (reasonCode === "other" && !note) return { missing: [$("reason-note"), "Ghi lý do khác rồi quét lại.", "Write the other reason, then scan again."] };
    const label = select.options[select.selectedIndex].textContent.trim();
    const reason = reasonCode === "other" ? note : note ? `${label}: ${note}` : label;
    return { fields: { reason, reason_code: reasonCode, action } };
  }
  if (code === "EMI") {
    const name = $("recipient-name").value.trim();
    if (!name) return { fields: {} };  // a dossier at the office counter needs no name; a result does (the server says)
    const recipient = { name, id_checked: $("id-checked").checked };
    const number = $("id-number").value.replace(/\s+/g, "");
    if (number) {
      if (!recipient.id_checked) return { missing: [$("id-checked"), "Đánh dấu đã kiểm tra giấy tờ rồi quét lại.", "Tick ID checked, then scan again."] };
      // Only the last 4 characters leave the device (the server keeps no more than that either).
      const masked = number.length > 4 ? "*".repeat(number.length - 4) + number.slice(-4) : "*".repeat(number.length);
      recipient.id_document = { type: $("id-type").value, number: masked };
    }
    const relation = $("relation").value.trim();
    if (relation) {
      recipient.relation = relation;
      const authNumber = $("auth-number").value.trim();
      const authDate = $("auth-date").value;
      if (!authNumber) return { missing: [$("auth-number"), "Người nhận thay cần giấy ủy quyền: ghi số giấy rồi quét lại.", "Someone other than the applicant needs an authorization: write its number, then scan again."] };
      if (!authDate) return { missing: [$("auth-date"), "Ghi ngày của giấy ủy quyền rồi quét lại.", "Write the authorization's date, then scan again."] };
      recipient.authorization = { number: authNumber, date: authDate };
    }
    return { fields: { recipient } };
  }
  return { fields: {} };
}

function clearExtras(code) {
  if (code === "EMH") {
    $("reason").value = "";
    $("action").value = "";
    $("reason-note").value = "";
  } else if (code === "EMI") {
    for (const id of ["recipient-name", "relation", "id-number", "auth-number", "auth-date"]) $(id).value = "";
    $("id-type").value = "cccd";
    $("id-checked").checked = false;
  }
}

// --- scanning

function scan(event) {
  event.preventDefault();
  const input = $("scan");
  const itemId = canonical(input.value);
  if (!itemId) {
    input.focus();
    return;
  }
  const code = chosenCode();
  const extra = extraFields(code);
  if (extra.missing) {
    // The id stays in the field: once the missing field is filled, Enter there records the scan.
    const [field, vi, en] = extra.missing;
    feedback("warn", vi, en);
    field.focus();
    return;
  }
  input.value = "";
  input.focus();
  const body = {
    event_id: uuid(),
    item_id: itemId,
    code,
    site: session.site,
    occurred_at: new Date().toISOString(),
    device: "clerk-web",
    ...extra.fields,
  };
  scanQueue = scanQueue
    .then(() => send(body))
    .finally(() => {
      // Keep the focus where the scanner types, unless the person has moved on to another control.
      if (!document.activeElement || document.activeElement === document.body) $("scan").focus();
    });
}

// Sends one scan; a lost connection is retried once with the same event_id (the server answers 200 if the first
// try was recorded after all), then the row offers to send it again, still with the same event_id.
async function send(body, row) {
  let answer = null;
  for (let attempt = 0; attempt < 2 && !answer; attempt++) {
    try {
      answer = await api("POST", "/api/v1/scans", body);
    } catch (e) {
      if (attempt === 0) await new Promise((r) => setTimeout(r, 1500));
    }
  }
  if (!answer) {
    feedback("fail", `Mất kết nối: ${grouped(body.item_id)} CHƯA được ghi nhận. Nhấn "Gửi lại" khi có mạng.`,
      "Connection lost: not recorded yet. Press “Resend” when online.");
    saveRow({ ...(row || {}), at: body.occurred_at, item_id: body.item_id, code: body.code, kind: "fail",
      vi: "Chưa gửi được", en: "not sent", resend: body, label: false });
    return;
  }
  showAnswer(body, answer, row);
}

function showAnswer(body, { status, data }, row) {
  const err = data && data.error ? data.error : {};
  const id = grouped(body.item_id);
  const [eventVi, eventEn] = EVENTS[body.code];
  const put = (kind, vi, en, label) =>
    saveRow({ ...(row || {}), at: body.occurred_at, item_id: body.item_id, code: body.code, kind, vi, en, label, resend: null });
  if (status === 201 || status === 200) {
    const item = data.item || {};
    const [stateVi, stateEn] = stateText(item.state, item.kind);
    if (status === 201) {
      const reason = body.reason ? ` Lý do: ${body.reason}.` : "";
      feedback("ok", `Đã ghi nhận: ${eventVi} — ${id}. Trạng thái: ${stateVi}.${reason}`, `Recorded: ${eventEn}; now ${stateEn}.`);
      put("ok", `Đã ghi nhận · ${stateVi}`, `recorded · ${stateEn}`, true);
    } else {
      feedback("warn", `${id}: sự kiện này đã được ghi nhận trước đó. Trạng thái: ${stateVi}.`, `Already recorded; now ${stateEn}.`);
      put("warn", `Đã ghi trước đó · ${stateVi}`, `duplicate · ${stateEn}`, true);
    }
    clearExtras(body.code);
  } else if (status === 409 && err.code === "illegal_transition") {
    const allowedAll = err.allowed || [];
    // The refusal does not name the kind: a delivered item with nothing allowed next is a result (or a return).
    const [stateVi, stateEn] = stateText(err.state, err.state === "delivered" && !allowedAll.length ? "result" : undefined);
    const byPost = allowedAll.filter((c) => POST_CODES.includes(c)).map((c) => `${EVENTS[c][0]} (${c})`);
    const byOffice = allowedAll.filter((c) => !POST_CODES.includes(c) && EVENTS[c]).map((c) => `${EVENTS[c][0]} (${c})`);
    let next = " Không còn sự kiện nào được ghi.";
    if (byPost.length) next = ` Có thể ghi: ${byPost.join(", ")}.`;
    else if (byOffice.length) next = ` Bước tiếp theo do cơ quan một cửa ghi: ${byOffice.join(", ")}.`;
    feedback("fail", `${eventVi} không được phép lúc này: ${id} đang ở trạng thái “${stateVi}”.${next}`,
      err.message || `Not allowed now: the item is ${stateEn}.`);
    put("fail", `Không được phép lúc này · ${stateVi}`, `illegal transition · ${stateEn}`, true);
  } else if (status === 404) {
    feedback("fail", `Không có bưu gửi ${id}. Kiểm tra lại mã.`, err.message || "No such item.");
    put("fail", "Không có bưu gửi này", "unknown item", false);
  } else if (status === 403) {
    feedback("fail", `Không được phép ghi ${eventVi.toLowerCase()} cho ${id}.`, err.message || "Forbidden.");
    put("fail", "Không được phép", "forbidden", false);
  } else if (status === 422 && err.code === "recipient_required") {
    feedback("warn", `Nhập họ tên người nhận (và kiểm tra giấy tờ tùy thân) rồi quét lại ${id}.`, err.message);
    put("warn", "Thiếu người nhận, chưa ghi", "recipient required, not recorded", true);
    $("scan").value = id;
    $("recipient-name").focus();
  } else if (status === 422) {
    feedback("fail", `Chưa ghi nhận ${id}: dữ liệu không hợp lệ.`, err.message || "Invalid data.");
    put("fail", "Không hợp lệ, chưa ghi", `invalid: ${err.code || status}`, false);
  } else if (status === 401) {
    put("fail", "Hết phiên đăng nhập, chưa ghi", "session expired, not recorded", false);
  } else {
    feedback("fail", `Lỗi ${status}: ${id} chưa được ghi nhận, hãy quét lại.`, err.message || "Not recorded: scan again.");
    put("fail", `Lỗi ${status}, chưa ghi`, `error ${status}, not recorded`, false);
  }
}

// --- this session's scans (kept for the browser tab, newest first)

function rowsKey() {
  return `dpost-clerk-scans:${session.username}`;
}

function loadRows() {
  return JSON.parse(sessionStorage.getItem(rowsKey()) || "[]");
}

function saveRow(row) {
  if (!session) return;  // logged out meanwhile (an expired session): the login form is showing
  const rows = loadRows();
  if (!row.key) row.key = uuid();
  const at = rows.findIndex((r) => r.key === row.key);
  if (at >= 0) rows[at] = row;
  else rows.unshift(row);
  sessionStorage.setItem(rowsKey(), JSON.stringify(rows.slice(0, MAX_ROWS)));
  renderRows(row.key);
}

function renderRows(lastKey) {
  const rows = loadRows();
  const body = $("scans");
  body.textContent = "";
  $("scans-count").textContent = `(${rows.length})`;
  if (!rows.length) {
    const cell = bilingual("td", "empty", "Chưa quét bưu gửi nào.", "Nothing scanned yet.");
    cell.colSpan = 5;
    const tr = el("tr");
    tr.append(cell);
    body.append(tr);
    return;
  }
  for (const r of rows) {
    const tr = el("tr", r.key === lastKey ? "last" : "");
    tr.dataset.item = r.item_id;
    tr.dataset.code = r.code;
    tr.dataset.outcome = r.kind;
    const [eventVi, eventEn] = EVENTS[r.code] || [r.code, ""];
    const event = bilingual("td", "", eventVi, `${eventEn} · ${r.code}`);
    const outcome = el("td");
    outcome.append(bilingual("span", `badge ${r.kind}`, r.vi, r.en));
    const action = el("td", "actions");
    if (r.label) {
      const button = el("button", "secondary small");
      button.type = "button";
      button.dataset.action = "label";
      button.append("In nhãn ", el("span", "en", "Label", "en"));
      button.setAttribute("aria-label", `In nhãn ${grouped(r.item_id)} / Print label`);
      button.addEventListener("click", backToScan(() => printLabel(r.item_id)));
      action.append(button);
    }
    if (r.resend) {
      const button = el("button", "secondary small");
      button.type = "button";
      button.dataset.action = "resend";
      button.append("Gửi lại ", el("span", "en", "Resend", "en"));
      button.addEventListener("click", backToScan(async () => {
        button.disabled = true;
        scanQueue = scanQueue.then(() => send(r.resend, r));
        await scanQueue;
      }));
      action.append(button);
    }
    tr.append(el("td", "nowrap", timeText(r.at)), el("td", "id", grouped(r.item_id)), event, outcome, action);
    body.append(tr);
  }
}

async function printLabel(itemId) {
  const shown = await openPdf(`/api/v1/items/${encodeURIComponent(itemId)}/label?format=pdf`, `Nhãn ${grouped(itemId)}`, "Label");
  if (shown === "opened") feedback("ok", `Đã mở nhãn ${grouped(itemId)} trong thẻ mới để in.`, "Label opened in a new tab for printing.");
  return shown;
}

// A button's action; clicked with the mouse, the focus then goes back to the scan field (the scanner types
// into whatever has the focus); pressed from the keyboard, the focus stays for the next key.
function backToScan(action) {
  return async (event) => {
    const byMouse = event.detail > 0;
    await action();
    if (byMouse && !$("clerk-view").hidden) $("scan").focus();
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("scan-form").addEventListener("submit", scan);
  $("events").addEventListener("change", updateChooser);
  $("label-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const itemId = canonical($("label-item").value);
    if (!itemId) return;
    if (await printLabel(itemId)) $("label-item").value = "";
  });
  // The scanner types while a button, a radio or a box has the focus: the characters (and the Enter after them)
  // go to the scan field instead of being lost or pressing the button. Text fields keep what is typed into them.
  document.addEventListener("keydown", (e) => {
    if ($("clerk-view").hidden || e.ctrlKey || e.altKey || e.metaKey || e.key.length !== 1 || e.key === " ") return;
    const t = e.target;
    if (t instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(t.type)) return;
    if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    $("scan").focus();
  }, true);
  if (!session) return showLogin();
  let me;
  try {
    me = await api("GET", "/api/v1/me");
  } catch (e) {
    return showClerk();  // offline: the token may still be good; scans will tell
  }
  if (me.status === 200) showClerk();
});
