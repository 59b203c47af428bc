// Office desk page: one-stop staff confirm receipt of incoming dossiers with a USB barcode scanner, which types
// the item id and Enter into the focused field. Every answer is shown in colour and text and heard as a tone.
// Scanning a bag id (BAG + 9 digits) receives the whole bag: its manifest is shown, each item taken out is
// scanned against it, and closing the bag marks what did not come as missing. A "today" card lists what
// arrived and what is still awaited (handed over to this office, not yet confirmed).
"use strict";

const STATES_VI = {
  created: "chưa giao cho bưu điện",
  handed_to_post: "đã giao cho bưu điện",
  accepted: "bưu điện đã nhận gửi",
  at_sorting: "đang ở trung tâm khai thác",
  left_sorting: "đã rời trung tâm khai thác",
  at_delivery_office: "đang ở bưu cục phát",
  out_for_delivery: "đang phát",
  attempt_failed: "phát không thành công",
  out_for_redelivery: "đang phát lại",
  attempts_exhausted: "đã phát không thành công hai lần",
  delivered: "bưu điện đã giao, chờ xác nhận",
  received: "cơ quan đã nhận",
  returning: "đang chuyển hoàn",
  returned: "đã chuyển hoàn",
};

const STATES_EN = {
  created: "not yet handed to the post",
  handed_to_post: "handed to the post",
  accepted: "accepted by the post",
  at_sorting: "at a sorting centre",
  left_sorting: "has left the sorting centre",
  at_delivery_office: "at the delivery post office",
  out_for_delivery: "out for delivery",
  attempt_failed: "delivery attempt failed",
  out_for_redelivery: "out for a second delivery",
  attempts_exhausted: "two delivery attempts failed",
  delivered: "delivered by the post, awaiting confirmation",
  received: "already received by the office",
  returning: "on its way back to the sender",
  returned: "returned",
};

// A bag item's outcome: [Vietnamese, English, colour class].
const OUTCOMES = {
  waiting: ["Chờ kiểm", "waiting", "pending"],
  received: ["Đã nhận", "received", "ok"],
  damaged: ["Hư hỏng", "damaged", "warn"],
  missing: ["Thiếu", "missing", "fail"],
  extra: ["Thừa", "extra", "warn"],
  returned: ["Kết quả chuyển hoàn", "returned result", "warn"],
};

const BAG_STATES = {
  open: ["đang lập, chưa gửi", "open, not dispatched"],
  dispatched: ["đã gửi, chưa nhận", "dispatched"],
  receiving: ["đang kiểm nhận", "being checked in"],
  closed: ["đã đóng", "closed"],
};

// The summary line of a bag, in this order.
const SUMMARY = [
  ["expected", "Dự kiến", "expected"],
  ["received", "Đã nhận", "received"],
  ["damaged", "Hư hỏng", "damaged"],
  ["missing", "Thiếu", "missing"],
  ["extra", "Thừa", "extra"],
  ["waiting", "Chờ kiểm", "waiting"],
];

const VIETNAM_OFFSET_MS = 7 * 3600 * 1000;  // Vietnam keeps UTC+7 all year

const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("dpost-desk") || "null");
let audio = null;
let openBag = null;       // the bag being checked in (state "receiving"), or null: scans are single receipts
let shownBag = null;      // the bag on screen (may be closed)
let closeArmed = false;   // the first press of "close bag" asks for confirmation when items are still waiting
let scanQueue = Promise.resolve();  // scans are handled one after the other, in the order they were typed
let todayGeneration = 0;

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function grouped(id) {
  return id.length === 13 ? `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8, 11)} ${id.slice(11)}` : id;
}

// A bag id: BAG, 8 digits and an S10-style check digit (weights 8 6 4 2 3 5 9 7).
function isBagId(code) {
  const m = /^BAG(\d{8})(\d)$/.exec(code);
  if (!m) return false;
  const weights = [8, 6, 4, 2, 3, 5, 9, 7];
  const sum = [...m[1]].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  let check = 11 - (sum % 11);
  if (check === 10) check = 0;
  if (check === 11) check = 5;
  return check === Number(m[2]);
}

function vnDate(ms) {
  return new Date(ms + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}

// Times as the office reads them, in Vietnam's time whatever the PC's zone: "09:15", "09:15 23/11".
function vnIso(iso) {
  const ms = iso ? Date.parse(iso) : Date.now();
  return new Date(ms + VIETNAM_OFFSET_MS).toISOString();
}

function timeText(iso) {
  return vnIso(iso).slice(11, 16);
}

function dateTimeText(iso) {
  const t = vnIso(iso);
  return `${t.slice(11, 16)} ${t.slice(8, 10)}/${t.slice(5, 7)}`;
}

function waitingText(minutes) {
  if (minutes < 60) return `${minutes} phút`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} giờ ${m} phút` : `${h} giờ`;
}

// A small element: el("td", "id", "text") or el("span", "en", "text", "en").
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
  const small = document.createElement("span");
  small.className = "en";
  small.lang = "en";
  small.textContent = ` ${en}`;
  box.appendChild(small);
  if (extra) box.append(" ", extra);
  tone(kind);
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
  }
  return true;
}

function showLogin(message) {
  session = null;
  sessionStorage.removeItem("dpost-desk");
  $("desk-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("username").focus();
}

function showDesk() {
  $("login-view").hidden = true;
  $("desk-view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${session.username} · ${session.site}`;
  $("scan").focus();
  refreshToday();
}

// Desk PCs are shared: ending the session forgets the open bag too, and the server revokes the token.
async function logout() {
  try {
    await api("POST", "/api/v1/logout", {});
  } catch (e) {
    // The session ends here either way; the server's expires on its own.
  }
  sessionStorage.removeItem("dpost-desk-bag");
  showLogin();
}

async function login(event) {
  event.preventDefault();
  const { status, data } = await api("POST", "/api/v1/login", {
    username: $("username").value.trim(),
    password: $("password").value,
  });
  $("password").value = "";
  if (status !== 200) {
    $("login-error").textContent =
      status === 429 ? "Đăng nhập sai quá nhiều lần, hãy thử lại sau. Too many attempts." : "Sai tên đăng nhập hoặc mật khẩu. Wrong username or password.";
    return;
  }
  if (data.user.role !== "office_staff") {
    $("login-error").textContent = "Trang này dành cho cán bộ một cửa. This desk is for one-stop office staff.";
    return;
  }
  session = { token: data.token, username: data.user.username, site: data.user.site };
  sessionStorage.setItem("dpost-desk", JSON.stringify(session));
  if (shownBag && shownBag.destination_site !== session.site) leaveBag(true);
  showDesk();
}

// `dossier`: a dossier item, whose result the staff may create from here (not for a result coming back).
function addRow(itemId, kind, text, dossier = true) {
  const row = document.createElement("tr");
  const time = document.createElement("td");
  time.textContent = timeText();
  const id = document.createElement("td");
  id.className = "id";
  id.textContent = grouped(itemId);
  const outcome = document.createElement("td");
  outcome.textContent = text;
  outcome.className = kind;
  const action = document.createElement("td");
  if (kind !== "fail" && dossier) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Tạo kết quả & in nhãn ";
    button.append(Object.assign(document.createElement("span"), { className: "en", lang: "en", textContent: "Create result & print label" }));
    button.title = "Create the result item and print its label";
    button.addEventListener("click", () => createResult(itemId, button));
    action.appendChild(button);
  }
  row.append(time, id, outcome, action);
  $("received").prepend(row);
}

async function createResult(itemId, button) {
  button.disabled = true;
  const item = await api("GET", `/api/v1/items/${encodeURIComponent(itemId)}`);
  if (item.status !== 200) {
    feedback("fail", "Không đọc được bưu gửi.", "Could not read the item.");
    button.disabled = false;
    return;
  }
  const result = await api("POST", `/api/v1/dossiers/${item.data.dossier.id}/result`, {});
  if (result.status !== 201) {
    const why = result.data && result.data.error ? result.data.error.message : "";
    feedback("fail", "Không tạo được kết quả.", `Could not create the result: ${why}`);
    button.disabled = false;
    return;
  }
  feedback("ok", `Đã tạo kết quả ${grouped(result.data.item_id)}: đang mở nhãn để in.`, "Result created: opening its label.");
  await openPdf(`/api/v1/items/${result.data.item_id}/label?format=pdf`, "Nhãn", "Label");
  button.textContent = grouped(result.data.item_id);
  $("scan").focus();
}

// A button's action; clicked with the mouse, the focus then goes back to the scan field (the scanner types
// into whatever has the focus); pressed from the keyboard, the focus stays for the next key.
function backToScan(action) {
  return async (event) => {
    const byMouse = event.detail > 0;
    await action();
    if (byMouse && !$("desk-view").hidden) $("scan").focus();
  };
}

// --- what arrived today: what this page confirmed (kept for the browser tab) plus the bags' items

function arrivalsKey() {
  return `dpost-desk-arrived:${session.site}`;
}

function loadArrivals() {
  const stored = JSON.parse(sessionStorage.getItem(arrivalsKey()) || "null");
  return stored && stored.date === vnDate(Date.now()) ? stored.items : [];
}

function recordArrival(itemId, how, outcome, note) {
  const items = loadArrivals().filter((a) => a.item_id !== itemId);
  items.push({ item_id: itemId, at: new Date().toISOString(), how, outcome, note: note || "" });
  sessionStorage.setItem(arrivalsKey(), JSON.stringify({ date: vnDate(Date.now()), items }));
}

// The condition boxes as the API wants them, read once per scan (and cleared for the next one).
function takeCondition() {
  const sealBroken = $("seal-broken").checked;
  const missingPaper = $("missing").checked;
  $("seal-broken").checked = false;
  $("missing").checked = false;
  const notes = [];
  if (sealBroken) notes.push("Niêm phong không nguyên vẹn / seal broken");
  if (missingPaper) notes.push("Thiếu giấy tờ / item missing");
  const fields = {};
  if (sealBroken) fields.seal_intact = false;
  if (missingPaper) fields.issue = "document_missing";
  return { notes, fields };
}

function scan(event) {
  event.preventDefault();
  const input = $("scan");
  const code = input.value.replace(/[\s-]+/g, "").toUpperCase();
  input.value = "";
  input.focus();
  if (!code) return;
  const condition = takeCondition();
  disarmClose();
  scanQueue = scanQueue
    .then(() => handleScan(code, condition))
    .catch(() => feedback("fail", `Mất kết nối: ${grouped(code)} CHƯA được ghi nhận. Quét lại.`, "Connection lost: not recorded, scan again."))
    .finally(() => {
      // Keep the focus where the scanner types, unless the person has moved on to another control.
      if (!document.activeElement || document.activeElement === document.body) $("scan").focus();
    });
}

async function handleScan(code, condition) {
  if (code.startsWith("BAG")) {
    if (!isBagId(code)) {
      feedback("fail", "Mã túi không hợp lệ: hãy quét lại.", "Invalid bag id: scan again.");
      return;
    }
    await openBagById(code);
  } else if (openBag) {
    await scanInBag(code, condition);
  } else {
    await scanSingle(code, condition);
  }
  refreshToday();
}

// One item on its own: RCV at this office.
async function scanSingle(itemId, condition) {
  const { notes, fields } = condition;
  const scanBody = {
    event_id: uuid(),
    item_id: itemId,
    code: "RCV",
    site: session.site,
    occurred_at: new Date().toISOString(),
    device: "desk-web",
    ...fields,
  };
  if (notes.length) scanBody.reason = notes.join("; ");
  let answer;
  try {
    answer = await api("POST", "/api/v1/scans", scanBody);
  } catch (e) {
    feedback("fail", `Mất kết nối: ${grouped(itemId)} CHƯA được ghi nhận. Quét lại.`, "Connection lost: not recorded, scan again.");
    return;
  }
  const { status, data } = answer;
  const err = data && data.error ? data.error : {};
  if (status === 201 && data.item && data.item.state === "returned") {
    await returnedResult(itemId, notes);
  } else if (status === 201) {
    const note = notes.length ? ` (${notes.join("; ")})` : "";
    feedback(notes.length ? "warn" : "ok", `Đã nhận ${grouped(itemId)}${note}`, "Receipt confirmed.");
    addRow(itemId, notes.length ? "warn" : "ok", notes.length ? `Đã nhận, ghi chú: ${notes.join("; ")} / received, noted` : "Đã nhận / received");
    recordArrival(itemId, "single", notes.length ? "damaged" : "received", notes.join("; "));
  } else if (status === 200) {
    feedback("warn", `${grouped(itemId)} đã được xác nhận trước đó.`, "Already confirmed.");
  } else if (status === 409 && err.code === "illegal_transition") {
    const state = STATES_VI[err.state] || err.state;
    const stateEn = STATES_EN[err.state] || err.state;
    feedback("fail", `Chưa thể xác nhận ${grouped(itemId)}: bưu gửi ${state}.`, `Cannot confirm it yet: the item is ${stateEn}.`);
    addRow(itemId, "fail", `Từ chối: ${state} / refused: ${stateEn}`);
  } else if (status === 404) {
    feedback("fail", `Không có bưu gửi ${grouped(itemId)}.`, "No such item.");
    addRow(itemId, "fail", "Từ chối: không có bưu gửi này / refused: no such item");
  } else if (status === 422) {
    feedback("fail", "Mã không hợp lệ: hãy quét lại.", "Invalid code: scan again.");
  } else if (status === 403) {
    feedback("fail", `${grouped(itemId)} không gửi đến cơ quan của bạn: hãy để riêng và báo cho bưu điện.`,
      "Not addressed to your office: set it aside and tell the post.");
    addRow(itemId, "fail", "Từ chối: không gửi đến cơ quan này / refused: addressed elsewhere");
  } else if (status !== 401) {
    feedback("fail", `Lỗi ${status}: chưa ghi nhận, hãy quét lại.`, "Not recorded: scan again.");
  }
}

// A result the post could not deliver, back at the office (RTS then RCV): not a routine receipt. The desk says
// so in amber with why it came back, so the staff keep it apart and call the citizen to collect it.
async function returnedResult(itemId, notes) {
  let why = "";
  let whyEn = "";
  try {
    const item = await api("GET", `/api/v1/items/${encodeURIComponent(itemId)}`);
    const attempt = item.status === 200 ? item.data.events.filter((e) => e.code === "EMH").at(-1) : null;
    if (attempt) {
      why = attempt.reason_code_text || attempt.reason || "";
      whyEn = attempt.reason_code_text_en || "";
    }
  } catch (e) {
    // The receipt is recorded; only the reason could not be shown.
  }
  const reason = why ? ` Lý do: ${why}.` : "";
  feedback("warn", `Kết quả ${grouped(itemId)} bị chuyển hoàn đã về: lưu giữ riêng và báo công dân đến nhận.${reason}`,
    `Returned result back at the office: keep it apart and ask the citizen to collect it.${whyEn ? ` Reason: ${whyEn}.` : ""}`);
  addRow(itemId, "warn", `Kết quả chuyển hoàn đã về${why ? ` (${why})` : ""}`, false);
  recordArrival(itemId, "single", "returned", [why, ...notes].filter(Boolean).join("; "));
}

// --- bags

async function openBagById(bagId) {
  const found = await api("GET", `/api/v1/bags/${bagId}`);
  if (found.status === 404) {
    feedback("fail", `Không có túi ${bagId}.`, "No such bag.");
    return;
  }
  if (found.status === 403) {
    feedback("fail", `Túi ${bagId} không gửi đến cơ quan của bạn.`, "This bag is not addressed to your office.");
    return;
  }
  if (found.status !== 200) {
    if (found.status !== 401) feedback("fail", `Lỗi ${found.status}: chưa mở được túi ${bagId}.`, "Could not open the bag.");
    return;
  }
  let bag = found.data;
  const resumed = bag.state === "receiving";
  if (bag.destination_site !== session.site) {
    feedback("fail", `Túi ${bagId} không gửi đến cơ quan của bạn (gửi đến ${bag.destination_site}).`, "Not addressed to your office.");
    return;
  }
  if (bag.state === "open") {
    feedback("fail", `Túi ${bagId} chưa được gửi đi: chưa thể nhận.`, "The bag has not been dispatched yet.");
    return;
  }
  if (bag.state === "dispatched") {
    const received = await api("POST", `/api/v1/bags/${bagId}/receive`, {});
    if (received.status !== 200) {
      const why = received.data && received.data.error ? received.data.error.message : "";
      if (received.status !== 401) feedback("fail", `Chưa nhận được túi ${bagId}.`, why || `HTTP ${received.status}`);
      return;
    }
    bag = received.data;
  }
  if (bag.state === "closed") {
    setOpenBag(null);
    renderBag(bag);
    feedback("warn", `Túi ${bagId} đã đóng lúc ${dateTimeText(bag.closed_at)}: quét lẻ từng bưu gửi.`, "This bag was already closed: scans are single receipts.");
    return;
  }
  setOpenBag(bag);
  renderBag(bag);
  const s = bag.summary;
  if (resumed) {
    feedback("ok", `Tiếp tục kiểm túi ${bagId}: còn ${s.waiting}/${s.expected} bưu gửi chờ kiểm.`,
      "Going on with this bag: scan each item you take out of it.");
  } else {
    feedback("ok", `Đã nhận túi ${bagId}: ${s.expected} bưu gửi trong bảng kê, còn ${s.waiting} chờ kiểm. Quét từng bưu gửi lấy ra khỏi túi.`,
      "Bag received: scan each item you take out of it.");
  }
}

async function scanInBag(itemId, condition) {
  const bagId = openBag.bag_id;
  const body = { event_id: uuid(), item_id: itemId, ...condition.fields };
  const answer = await api("POST", `/api/v1/bags/${bagId}/scan`, body);
  const { status, data } = answer;
  const err = data && data.error ? data.error : {};
  if (status !== 200) {
    if (status === 409 && err.code === "bag_closed") {
      setOpenBag(null);
      feedback("fail", `Túi ${bagId} đã đóng: ${grouped(itemId)} CHƯA được ghi nhận. Quét lại để nhận lẻ.`, "The bag is closed: the item was NOT recorded. Scan it again to receive it on its own.");
    } else if (status === 422 || status === 400) {
      feedback("fail", "Mã không hợp lệ: hãy quét lại.", "Invalid code: scan again.");
    } else if (status !== 401) {
      feedback("fail", `Lỗi ${status}: ${grouped(itemId)} chưa ghi nhận, hãy quét lại.`, "Not recorded: scan again.");
    }
    return;
  }
  renderBag(data.bag, data.bag.items.some((i) => i.item_id === itemId) ? itemId : null);
  setOpenBag(data.bag.state === "receiving" ? data.bag : null);
  const scanErr = data.error || {};
  const why = (scanErr.message || "").replace(/\.+$/, "");
  const inBag = data.bag.items.find((i) => i.item_id === itemId);
  const checkedBefore = data.status === "refused" && inBag && inBag.outcome && inBag.state === "received";
  const notes = condition.notes.length ? ` (${condition.notes.join("; ")})` : "";
  const recorded = data.status === "recorded";
  if (data.status === "duplicate" || checkedBefore) {
    feedback("warn", `${grouped(itemId)} đã được kiểm trước đó.`, "Already checked in.");
  } else if (data.outcome === "received") {
    feedback("ok", `Đã nhận ${grouped(itemId)} (trong túi ${bagId}).`, "Received from the bag.");
  } else if (data.outcome === "damaged") {
    feedback("warn", `Đã nhận ${grouped(itemId)}, ghi nhận hư hỏng${notes}.`, "Received, damage recorded.");
  } else if (data.outcome === "extra") {
    const then = recorded ? "đã xác nhận nhận" : "chưa ghi nhận việc nhận";
    feedback("warn", `${grouped(itemId)} KHÔNG có trong bảng kê: ghi là thừa; ${then}.`,
      recorded ? "Not on the manifest: recorded as extra, receipt confirmed." : `Not on the manifest: recorded as extra; not confirmed: ${why}.`);
  } else if (data.outcome === "unknown") {
    feedback("fail", `Không có bưu gửi ${grouped(itemId)}.`, "No such item.");
  } else {
    const state = scanErr.code === "illegal_transition" && data.item ? STATES_VI[data.item.state] || data.item.state : "";
    feedback("fail", `Chưa thể xác nhận ${grouped(itemId)}${state ? `: bưu gửi ${state}` : ""}.`, why ? `${why}.` : "Refused.");
  }
  if (recorded && ["received", "damaged", "extra"].includes(data.outcome)) {
    const [vi] = OUTCOMES[data.outcome];
    addRow(itemId, data.outcome === "received" ? "ok" : "warn", `${vi} (túi ${bagId})${notes}`);
    recordArrival(itemId, bagId, data.outcome, condition.notes.join("; "));
  }
}

function setOpenBag(bag) {
  openBag = bag;
  const mode = $("scan-mode");
  if (bag) {
    sessionStorage.setItem("dpost-desk-bag", bag.bag_id);
    mode.hidden = false;
    mode.textContent = `Đang kiểm túi ${bag.bag_id}: quét từng bưu gửi lấy ra khỏi túi. `;
    mode.append(el("span", "en", `Checking in bag ${bag.bag_id}: scan each item you take out.`, "en"));
    $("scan-label-vi").textContent = `Quét bưu gửi trong túi ${bag.bag_id}`;
    $("scan-label-en").textContent = `Scan an item from bag ${bag.bag_id}`;
  } else {
    sessionStorage.removeItem("dpost-desk-bag");
    mode.hidden = true;
    mode.textContent = "";
    $("scan-label-vi").textContent = "Quét mã bưu gửi để xác nhận đã nhận hồ sơ, hoặc mã túi để nhận cả túi";
    $("scan-label-en").textContent = "Scan an item to confirm receipt, or a bag to receive it whole";
  }
}

function outcomeBadge(outcome) {
  const [vi, en, cls] = OUTCOMES[outcome || "waiting"] || [outcome, outcome, "pending"];
  return bilingual("span", `badge ${cls}`, vi, en);
}

function renderBag(bag, lastItemId) {
  shownBag = bag;
  $("bag-view").hidden = false;
  $("bag-id").textContent = bag.bag_id;
  const [stateVi, stateEn] = BAG_STATES[bag.state] || [bag.state, bag.state];
  const meta = $("bag-meta");
  meta.textContent = "";
  const from = `Từ ${bag.origin_site}${bag.dispatched_at ? `, gửi lúc ${dateTimeText(bag.dispatched_at)}` : ""}` +
    `${bag.dispatched_by ? ` (${bag.dispatched_by})` : ""} · `;
  meta.append(from, bilingual("strong", `state-${bag.state}`, stateVi, stateEn));
  if (bag.closed_at) meta.append(` · đóng lúc ${dateTimeText(bag.closed_at)}${bag.closed_by ? ` (${bag.closed_by})` : ""}`);

  const summary = $("bag-summary");
  summary.textContent = "";
  for (const [key, vi, en] of SUMMARY) {
    const n = bag.summary[key] || 0;
    let cls = "";
    if (n > 0 && key === "missing") cls = "fail";
    else if (n > 0 && (key === "damaged" || key === "extra")) cls = "warn";
    else if (n > 0 && key === "received") cls = "ok";
    const li = el("li", cls);
    li.dataset.key = key;
    li.append(el("strong", "n", String(n)), " ", vi, " ", el("span", "en", en, "en"));
    summary.append(li);
  }

  const body = $("bag-items");
  body.textContent = "";
  for (const item of bag.items) {
    const row = el("tr", item.item_id === lastItemId ? "last" : "");
    row.dataset.item = item.item_id;
    row.dataset.outcome = item.outcome || "waiting";
    const procedure = el("td", "", item.procedure_name || "");
    if (!item.expected) procedure.append(" ", bilingual("span", "note", "(ngoài bảng kê)", "not listed"));
    const outcome = el("td");
    outcome.append(outcomeBadge(item.outcome));
    if (item.scanned_at) outcome.append(" ", el("span", "meta", timeText(item.scanned_at)));
    row.append(el("td", "id", grouped(item.item_id)), procedure, el("td", "", item.dossier_code || "—"), outcome);
    body.append(row);
  }

  const receiving = bag.state === "receiving";
  $("bag-close").hidden = !receiving;
  $("bag-leave").hidden = !receiving;
  $("bag-slip").hidden = bag.state !== "closed";
  disarmClose();
}

function disarmClose() {
  closeArmed = false;
  const button = $("bag-close");
  button.textContent = "Đóng túi ";
  button.append(el("span", "en", "Close bag", "en"));
  button.classList.remove("danger");
  $("bag-close-note").textContent = "";
}

async function closeBag() {
  if (!openBag) return;
  const waiting = shownBag && shownBag.bag_id === openBag.bag_id ? shownBag.summary.waiting : openBag.summary.waiting;
  if (waiting > 0 && !closeArmed) {
    closeArmed = true;
    const button = $("bag-close");
    button.textContent = `Xác nhận đóng túi: ${waiting} bưu gửi chưa kiểm sẽ ghi là THIẾU `;
    button.append(el("span", "en", `Confirm: ${waiting} unscanned item(s) become missing`, "en"));
    button.classList.add("danger");
    $("bag-close-note").textContent =
      `Còn ${waiting} bưu gửi chưa kiểm. Nhấn lần nữa để đóng túi, hoặc quét tiếp. ` +
      `${waiting} item(s) not scanned yet: press again to close, or keep scanning.`;
    return;
  }
  const bagId = openBag.bag_id;
  const { status, data } = await api("POST", `/api/v1/bags/${bagId}/close`);
  if (status !== 200) {
    const why = data && data.error ? data.error.message : "";
    if (status !== 401) feedback("fail", `Chưa đóng được túi ${bagId}.`, why || `HTTP ${status}`);
    disarmClose();
    return;
  }
  setOpenBag(null);
  renderBag(data);
  const s = data.summary;
  const parts = `${s.received} đã nhận, ${s.damaged} hư hỏng, ${s.missing} thiếu, ${s.extra} thừa`;
  if (s.missing > 0) {
    feedback("fail", `Đã đóng túi ${bagId}: THIẾU ${s.missing} bưu gửi (${parts}). Lập biên bản bàn giao.`,
      `Bag closed: ${s.missing} missing. Print the handover record.`);
  } else {
    feedback(s.damaged || s.extra ? "warn" : "ok", `Đã đóng túi ${bagId}: ${parts}.`, "Bag closed.");
  }
  $("scan").focus();
  refreshToday();
}

function leaveBag(quiet) {
  const bagId = openBag ? openBag.bag_id : shownBag ? shownBag.bag_id : "";
  setOpenBag(null);
  shownBag = null;
  $("bag-view").hidden = true;
  if (!quiet && bagId) {
    feedback("warn", `Đã để túi ${bagId} lại (chưa đóng). Quét lại mã túi để kiểm tiếp.`, "Bag set aside, not closed: scan it again to go on.");
  }
  $("scan").focus();
}

// --- today: still awaited (handed over to this office, not confirmed) and arrived today

async function refreshToday() {
  if (!session) return;
  const generation = ++todayGeneration;
  const site = encodeURIComponent(session.site);
  let pending;
  let bags;
  try {
    [pending, bags] = await Promise.all([
      api("GET", `/api/v1/handoffs/pending?site=${site}`),
      api("GET", `/api/v1/bags?site=${site}`),
    ]);
  } catch (e) {
    if (generation === todayGeneration) $("today-status").textContent = "Mất kết nối: chưa làm mới được. Connection lost.";
    return;
  }
  if (generation !== todayGeneration || !session) return;
  const today = vnDate(Date.now());
  $("today-date").textContent = today.split("-").reverse().join("/");
  const problems = [];
  if (pending.status === 200) renderAwaited(pending.data);
  else problems.push(`chờ xác nhận: lỗi ${pending.status}`);
  const arrived = loadArrivals().map((a) => ({ ...a }));
  if (bags.status === 200) {
    for (const bag of bags.data.bags) {
      if (bag.destination_site !== session.site) continue;
      for (const item of bag.items) {
        if (!item.scanned_at || !["received", "damaged", "extra"].includes(item.outcome)) continue;
        if (vnDate(Date.parse(item.scanned_at)) !== today) continue;
        const entry = { item_id: item.item_id, at: item.scanned_at, how: bag.bag_id, outcome: item.outcome, note: "" };
        const known = arrived.findIndex((a) => a.item_id === item.item_id);
        if (known >= 0) arrived[known] = { ...entry, note: arrived[known].note };
        else arrived.push(entry);
      }
    }
  } else {
    problems.push(`túi: lỗi ${bags.status}`);
  }
  renderArrived(arrived);
  $("today-status").textContent = problems.length
    ? `Chưa làm mới được (${problems.join("; ")}). Could not refresh everything.`
    : `Cập nhật lúc ${timeText()}. Updated at ${timeText()}.`;
}

function renderAwaited(data) {
  const body = $("awaited");
  body.textContent = "";
  const mine = data.pending.filter((p) => p.to_site === session.site);
  const toPost = data.pending.filter((p) => p.to_site !== session.site && p.from_site === session.site);
  const overdue = mine.filter((p) => p.overdue).length;
  $("awaited-count").textContent = overdue ? `(${mine.length}, ${overdue} quá hạn / overdue)` : `(${mine.length})`;
  if (!mine.length) {
    const row = el("tr");
    const cell = bilingual("td", "empty", "Không có bưu gửi nào chờ xác nhận.", "Nothing is awaiting confirmation.");
    cell.colSpan = 5;
    row.append(cell);
    body.append(row);
  }
  for (const p of mine) {
    const row = el("tr", p.overdue ? "overdue" : "");
    row.dataset.item = p.item_id;
    const status = p.overdue
      ? bilingual("td", "fail-text", "Quá hạn xác nhận", `not confirmed within ${data.confirm_within_minutes} min`)
      : bilingual("td", "", "Trong hạn", "within time");
    const since = el("td", "nowrap", dateTimeText(p.since));
    since.append(el("br"), el("span", "meta", p.from_site));
    row.append(el("td", "id", grouped(p.item_id)), el("td", "", p.dossier_code || "—"), since,
      el("td", "nowrap", waitingText(p.waiting_minutes)), status);
    body.append(row);
  }
  const note = $("to-post-note") || el("p", "note");
  note.id = "to-post-note";
  note.textContent = toPost.length
    ? `Kết quả đã giao bưu điện, chờ bưu điện xác nhận: ${toPost.length}. Results handed to the post, awaiting its confirmation.`
    : "";
  body.closest("table").after(note);
}

function renderArrived(items) {
  const body = $("arrived");
  body.textContent = "";
  items.sort((a, b) => (a.at < b.at ? 1 : -1));
  $("arrived-count").textContent = `(${items.length})`;
  if (!items.length) {
    const row = el("tr");
    const cell = bilingual("td", "empty", "Chưa có bưu gửi nào được nhận hôm nay.", "Nothing received yet today.");
    cell.colSpan = 4;
    row.append(cell);
    body.append(row);
  }
  for (const a of items) {
    const row = el("tr");
    row.dataset.item = a.item_id;
    const how = a.how === "single" ? bilingual("td", "", "Quét lẻ", "single scan") : bilingual("td", "", `Túi ${a.how}`, "bag");
    const outcome = el("td");
    outcome.append(outcomeBadge(a.outcome));
    if (a.note) outcome.append(" ", el("span", "meta", a.note));
    row.append(el("td", "nowrap", timeText(a.at)), el("td", "id", grouped(a.item_id)), how, outcome);
    body.append(row);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("scan-form").addEventListener("submit", scan);
  $("bag-close").addEventListener("click", closeBag);
  $("bag-close").addEventListener("blur", () => closeArmed && disarmClose());
  $("bag-leave").addEventListener("click", () => leaveBag(false));
  $("bag-slip").addEventListener("click", backToScan(async () => {
    if (shownBag) await openPdf(`/api/v1/bags/${shownBag.bag_id}/slip`, "Biên bản bàn giao", "Handover record");
  }));
  $("today-refresh").addEventListener("click", backToScan(() => refreshToday()));
  $("today-slip").addEventListener("click", backToScan(() => openPdf("/api/v1/handoffs/slip", "Phiếu kiểm soát bàn giao", "Handover slip")));
  // The scanner types while a button or a box has the focus: the characters (and the Enter after them) go to the
  // scan field instead of being lost or pressing the button.
  document.addEventListener("keydown", (e) => {
    if ($("desk-view").hidden || e.ctrlKey || e.altKey || e.metaKey || e.key.length !== 1 || e.key === " ") return;
    const t = e.target;
    if (t instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(t.type)) return;
    if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    $("scan").focus();
  }, true);
  if (!session) return showLogin();
  const me = await api("GET", "/api/v1/me");
  if (me.status !== 200) return;
  showDesk();
  // A bag being checked in when the page was reloaded: go on with it.
  const bagId = sessionStorage.getItem("dpost-desk-bag");
  if (bagId) await openBagById(bagId);
});
