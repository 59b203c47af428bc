// A minimal Chrome DevTools Protocol client over a hand-made WebSocket (RFC 6455 text frames only), so the
// browser tests need Node and Debian's chromium, and nothing from npm.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

function connect(url) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const key = crypto.randomBytes(16).toString("base64");
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname,
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key },
    });
    req.on("upgrade", (res, socket) => resolve(socket));
    req.on("error", reject);
    req.end();
  });
}

export class Cdp {
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map();
    this.buffer = Buffer.alloc(0);
    this.listeners = [];
    socket.on("data", (chunk) => this.#receive(chunk));
  }

  static async open(wsUrl) {
    return new Cdp(await connect(wsUrl));
  }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    const mask = crypto.randomBytes(4);
    let header;
    if (payload.length < 126) {
      header = Buffer.from([0x81, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x81; header[1] = 0x80 | 126; header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x81; header[1] = 0x80 | 127; header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    this.socket.write(Buffer.concat([header, mask, masked]));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`CDP ${method}: no answer in 30 s`));
      }, 30000).unref();
    });
  }

  on(listener) {
    this.listeners.push(listener);
  }

  #receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2); offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2)); offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const opcode = this.buffer[0] & 0x0f;
      const data = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode !== 1) continue;  // text frames only; the browser sends nothing else to us
      const message = JSON.parse(data.toString("utf8"));
      if (message.id && this.pending.has(message.id)) {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) p.reject(new Error(`CDP ${p.method}: ${message.error.message}`));
        else p.resolve(message.result);
      } else {
        for (const l of this.listeners) l(message);
      }
    }
  }

  close() {
    this.socket.destroy();
  }
}

// Starts headless Chromium with the flags this machine needs (no network beyond loopback, no sandbox as root).
export async function launchBrowser() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dpost-chromium-"));
  const browser = spawn("chromium", [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", `--user-data-dir=${dir}`, "--window-size=1000,900", "about:blank",
  ], { stdio: "ignore" });
  const portFile = path.join(dir, "DevToolsActivePort");
  for (let i = 0; i < 300 && !fs.existsSync(portFile); i++) await sleep(100);
  if (!fs.existsSync(portFile)) throw new Error("chromium did not start (is Debian's chromium installed?)");
  await sleep(100);
  const [port, wsPath] = fs.readFileSync(portFile, "utf8").trim().split("\n");
  const cdp = await Cdp.open(`ws://127.0.0.1:${port}${wsPath}`);
  return {
    cdp,
    async close() {
      cdp.close();
      const exited = new Promise((resolve) => browser.once("exit", resolve));
      browser.kill("SIGKILL");
      await Promise.race([exited, sleep(5000)]);
      // Chromium's helpers may still be writing into its profile for a moment: cleanup never fails a test.
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch (e) {
        console.error(`note: could not remove ${dir}: ${e.message}`);
      }
    },
  };
}

// A page (tab) with helpers used by the tests.
export async function openPage(cdp, url) {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  const send = (method, params) => cdp.send(method, params, sessionId);
  await send("Page.enable");
  await send("Runtime.enable");
  await send("Page.navigate", { url });
  const page = {
    send,
    async eval(expression) {
      const r = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.text} in ${expression}`);
      return r.result.value;
    },
    async waitFor(expression, what, seconds = 20) {
      for (let i = 0; i < seconds * 10; i++) {
        if (await page.eval(expression)) return;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    // Types like a keyboard (or a USB barcode scanner, which is one) into whatever has the focus.
    async type(text) {
      await send("Input.insertText", { text });
    },
    async pressEnter() {
      const key = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
      await send("Input.dispatchKeyEvent", { type: "keyDown", text: "\r", ...key });
      await send("Input.dispatchKeyEvent", { type: "keyUp", ...key });
    },
    async screenshot(file) {
      const { data } = await send("Page.captureScreenshot", { format: "png" });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, Buffer.from(data, "base64"));
    },
  };
  await page.waitFor("document.readyState === 'complete'", "the page to load");
  return page;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Starts dossier-server --demo on a free port with a temporary database; resolves when it listens. `files`
// ({name: text}) are written into its temporary folder first, and `args(dir)` gives more flags (naming them).
export async function startServer(serverBin, { files = {}, args = () => [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dpost-browser-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const server = spawn(serverBin, ["--listen", "127.0.0.1:0", "--db", path.join(dir, "test.db"), "--demo", ...args(dir)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`dossier-server exited with ${code}`)));
    setTimeout(() => reject(new Error("dossier-server did not start in 30 s")), 30000).unref();
  });
  return {
    base,
    async api(method, p, body, token) {
      const res = await fetch(base + p, {
        method, body: body ? JSON.stringify(body) : undefined,
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      });
      return { status: res.status, data: await res.json().catch(() => null) };
    },
    stop() {
      server.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Presses one key like a keyboard on a page from openPage: "Tab", " " (Space), "Enter", "Escape", "ArrowDown";
// { shift: true } holds Shift (Shift+Tab moves the focus back).
const KEY_CODES = { Tab: ["Tab", 9, ""], " ": ["Space", 32, " "], Enter: ["Enter", 13, "\r"], Escape: ["Escape", 27, ""],
  ArrowDown: ["ArrowDown", 40, ""], ArrowUp: ["ArrowUp", 38, ""] };
export async function pressKey(page, key, { shift = false } = {}) {
  const [code, keyCode, text] = KEY_CODES[key] || [key, 0, key];
  const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, modifiers: shift ? 8 : 0 };
  await page.send("Input.dispatchKeyEvent", { type: text ? "keyDown" : "rawKeyDown", ...(text ? { text } : {}), ...base });
  await page.send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
}

// Logs in on a staff page by keyboard: the focus starts on the username, Tab reaches the password, Enter submits.
export async function logInByKeyboard(page, username, password = "demo") {
  await page.waitFor("!document.getElementById('login-view').hidden", "the login form");
  assert.equal(await page.eval("document.activeElement.id"), "username", "the username field has the focus");
  await page.type(username);
  await pressKey(page, "Tab");
  assert.equal(await page.eval("document.activeElement.id"), "password", "Tab moves from the username to the password");
  await page.type(password);
  await page.pressEnter();
}

// "Đăng xuất" on a staff page (shared PCs): back to the login form with `viewId` hidden, the session under
// `storageKey` forgotten, and its token refused by the server from then on.
export async function checkLogOut(page, base, storageKey, viewId) {
  const oldToken = await page.eval(`JSON.parse(sessionStorage.getItem('${storageKey}')).token`);
  await page.eval("document.getElementById('logout').click()");
  await page.waitFor(`!document.getElementById('login-view').hidden && document.getElementById('${viewId}').hidden && document.getElementById('logout').hidden`,
    "the login form after logging out");
  assert.equal(await page.eval(`sessionStorage.getItem('${storageKey}')`), null);
  const me = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${oldToken}` } });
  assert.equal(me.status, 401, "the token is revoked");
}
