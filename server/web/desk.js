// Office desk page: one-stop staff confirm receipt of incoming dossiers with a USB barcode scanner, which types
// the item id and Enter into the focused field. Every answer is shown in colour and text and heard as a tone.
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

const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("dpost-desk") || "null");
let audio = null;

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

function feedback(kind, vi, en) {
  const box = $("feedback");
  box.className = `feedback ${kind}`;
  box.textContent = vi;
  const small = document.createElement("span");
  small.className = "en";
  small.textContent = ` ${en}`;
  box.appendChild(small);
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

function showLogin(message) {
  session = null;
  sessionStorage.removeItem("dpost-desk");
  $("desk-view").hidden = true;
  $("login-view").hidden = false;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("username").focus();
}

function showDesk() {
  $("login-view").hidden = true;
  $("desk-view").hidden = false;
  $("who").textContent = `${session.username} · ${session.site}`;
  $("scan").focus();
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
  showDesk();
}

function addRow(itemId, kind, text) {
  const row = document.createElement("tr");
  const time = document.createElement("td");
  time.textContent = new Date().toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
  const id = document.createElement("td");
  id.className = "id";
  id.textContent = grouped(itemId);
  const outcome = document.createElement("td");
  outcome.textContent = text;
  outcome.className = kind;
  const action = document.createElement("td");
  if (kind !== "fail") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Tạo kết quả & in nhãn";
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
  const label = await fetch(`/api/v1/items/${result.data.item_id}/label?format=pdf`, {
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (label.ok) window.open(URL.createObjectURL(await label.blob()), "_blank");
  button.textContent = grouped(result.data.item_id);
  $("scan").focus();
}

async function scan(event) {
  event.preventDefault();
  const input = $("scan");
  const itemId = input.value.replace(/\s+/g, "").toUpperCase();
  input.value = "";
  if (!itemId) return;
  const notes = [];
  if ($("seal-broken").checked) notes.push("Niêm phong không nguyên vẹn / seal broken");
  if ($("missing").checked) notes.push("Thiếu giấy tờ / item missing");
  const scanBody = {
    event_id: uuid(),
    item_id: itemId,
    code: "RCV",
    site: session.site,
    occurred_at: new Date().toISOString(),
    device: "desk-web",
  };
  if (notes.length) scanBody.reason = notes.join("; ");
  let answer;
  try {
    answer = await api("POST", "/api/v1/scans", scanBody);
  } catch (e) {
    feedback("fail", `Mất kết nối: ${grouped(itemId)} CHƯA được ghi nhận. Quét lại.`, "Connection lost: not recorded, scan again.");
    input.focus();
    return;
  }
  const { status, data } = answer;
  const err = data && data.error ? data.error : {};
  if (status === 201) {
    const note = notes.length ? ` (${notes.join("; ")})` : "";
    feedback(notes.length ? "warn" : "ok", `Đã nhận ${grouped(itemId)}${note}`, "Receipt confirmed.");
    addRow(itemId, notes.length ? "warn" : "ok", notes.length ? `Đã nhận, ghi chú: ${notes.join("; ")}` : "Đã nhận");
  } else if (status === 200) {
    feedback("warn", `${grouped(itemId)} đã được xác nhận trước đó.`, "Already confirmed.");
  } else if (status === 409 && err.code === "illegal_transition") {
    const state = STATES_VI[err.state] || err.state;
    feedback("fail", `Chưa thể xác nhận ${grouped(itemId)}: bưu gửi ${state}.`, err.message || "");
    addRow(itemId, "fail", `Từ chối: ${state}`);
  } else if (status === 404) {
    feedback("fail", `Không có bưu gửi ${grouped(itemId)}.`, "No such item.");
  } else if (status === 422) {
    feedback("fail", "Mã không hợp lệ: hãy quét lại.", err.message || "Invalid code: scan again.");
  } else if (status === 403) {
    feedback("fail", `${grouped(itemId)} không gửi đến cơ quan của bạn.`, err.message || "Not addressed to your office.");
  } else if (status !== 401) {
    feedback("fail", `Lỗi ${status}: chưa ghi nhận, hãy quét lại.`, err.message || "Not recorded: scan again.");
  }
  $("seal-broken").checked = false;
  $("missing").checked = false;
  input.focus();
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("scan-form").addEventListener("submit", scan);
  if (!session) return showLogin();
  const me = await api("GET", "/api/v1/me");
  if (me.status === 200) showDesk();
});
