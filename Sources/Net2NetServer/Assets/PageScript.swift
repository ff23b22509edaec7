/// The page's script: tabs, forms, drawing canvases and calls to `/api/…`.
/// Hand-written, no libraries; results are PNG data URLs, each a download link.
enum PageScript {
    static let text = #"""
"use strict";
const $ = (id) => document.getElementById(id);
let downloads = 0;

// One call to the API at a time from this page; a progress note after 150 ms.
async function api(path, body) {
  const error = $("error"), progress = $("progress"), started = performance.now();
  error.hidden = true;
  const timer = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    if (seconds > 0.15) { progress.hidden = false; $("progress-text").textContent = `working… ${seconds.toFixed(1)} s`; }
  }, 100);
  document.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true));
  try {
    const response = await fetch(path, body === undefined ? {} :
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    return answer;
  } catch (e) {
    error.textContent = e.message; error.hidden = false; throw e;
  } finally {
    clearInterval(timer); progress.hidden = true;
    document.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = false));
  }
}

function figure(src, caption) {
  const f = document.createElement("figure"), a = document.createElement("a"), img = new Image();
  img.src = src; img.alt = caption || "result";
  a.href = src; a.download = `net2net-${++downloads}.png`; a.title = "download PNG";
  a.append(img); f.append(a);
  if (caption) { const c = document.createElement("figcaption"); c.textContent = caption; f.append(c); }
  return f;
}

function showResults(target, title, answer, replace) {
  const box = $(target), block = document.createElement("div");
  const heading = document.createElement("p"), grid = document.createElement("div");
  heading.className = "result-title";
  heading.textContent = `${title} — ${answer.images.length} images in ${answer.milliseconds} ms (seed ${answer.seed})`;
  grid.className = "grid";
  if (answer.input) {
    grid.append(figure(answer.input, answer.source ? `read as: ${answer.source}` : "query"));
    const arrow = document.createElement("span"); arrow.className = "arrow"; arrow.textContent = "→"; grid.append(arrow);
  }
  answer.images.forEach((src) => grid.append(figure(src)));
  block.append(heading, grid);
  if (replace) box.replaceChildren(block); else box.prepend(block);
}

const number = (id) => Number($(id).value);

// Tabs.
document.querySelectorAll("#tabs button").forEach((button) => button.addEventListener("click", () => {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b === button));
  document.querySelectorAll(".tab").forEach((t) => (t.hidden = t.id !== `tab-${button.dataset.tab}`));
  if (button.dataset.tab === "swap" || button.dataset.tab === "inpaint") loadExamples();
}));

// What the server has loaded.
let loaded = [];
api("/api/status").then((s) => {
  loaded = s.experiments;
  $("status").textContent = `loaded: ${loaded.join(", ")}`;
  s.classes.forEach((c) => { const o = document.createElement("option"); o.value = c; $("swap-classes").append(o); });
  if (loaded.includes("label-to-image")) $("swap-experiment").add(new Option("label → image", "label-to-image"));
  for (const [tab, experiment] of [["sketch", "edges-to-image"], ["inpaint", "inpainting"], ["faces", "gan-translation"]]) {
    if (!loaded.includes(experiment)) {
      const p = document.createElement("p"); p.className = "error";
      p.textContent = `${experiment} is not loaded: train it (net2net experiment train configs/${experiment}.yaml) and start the server with --models DIR.`;
      $(`tab-${tab}`).prepend(p);
    }
  }
}).catch(() => {});

// Text → image.
$("text-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = $("text-prompt").value, same = $("text-same").checked;
  const answer = await api("/api/sample", { prompt, count: number("text-count"),
    temperature: number("text-temperature"), seed: number("text-seed") });
  showResults("text-results", `“${prompt}”`, answer, !same);
});

// Images to start from: examples from the server, or an upload.
let examplesLoaded = false;
async function loadExamples() {
  if (examplesLoaded) return;
  examplesLoaded = true;
  const answer = await api("/api/examples");
  for (const target of ["swap-examples", "inpaint-examples"]) {
    answer.images.forEach((src, i) => {
      const img = new Image(); img.src = src; img.title = answer.captions[i];
      img.addEventListener("click", () => pick(target, img));
      $(target).append(img);
    });
  }
}
const picked = {};
function pick(strip, img) {
  document.querySelectorAll(`#${strip} img`).forEach((i) => i.classList.toggle("picked", i === img));
  picked[strip] = img.src;
  if (strip === "inpaint-examples") inpaintLoad(img.src);
}
function readFile(input, then) {
  input.addEventListener("change", () => {
    const file = input.files[0]; if (!file) return;
    const reader = new FileReader(); reader.onload = () => then(reader.result); reader.readAsDataURL(file);
  });
}

// Label / class swap.
readFile($("swap-file"), (url) => { picked["swap-examples"] = url; document.querySelectorAll("#swap-examples img").forEach((i) => i.classList.remove("picked")); });
$("swap-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const image = picked["swap-examples"];
  if (!image) { $("error").textContent = "pick or upload an image first"; $("error").hidden = false; return; }
  const to = $("swap-to").value;
  const answer = await api("/api/swap", { image, to, experiment: $("swap-experiment").value, count: number("swap-count") });
  showResults("swap-results", `→ “${to}”`, answer, false);
});

// A canvas drawn on with mouse, pen or finger.
function drawable(canvas, color, width, onStroke) {
  const g = canvas.getContext("2d");
  let last = null;
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    for (const ctx of [g, onStroke && onStroke()].filter(Boolean)) {
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.lineCap = "round";
      ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    }
    last = p;
  });
  for (const end of ["pointerup", "pointercancel", "pointerleave"]) canvas.addEventListener(end, () => (last = null));
  return g;
}
function clearCanvas(canvas) { const g = canvas.getContext("2d"); g.fillStyle = "#000"; g.fillRect(0, 0, canvas.width, canvas.height); }
function drawImageOn(canvas, url, then) {
  const img = new Image();
  img.onload = () => { const g = canvas.getContext("2d"); g.imageSmoothingEnabled = false; g.drawImage(img, 0, 0, canvas.width, canvas.height); if (then) then(); };
  img.src = url;
}

// Sketch → image.
const sketch = $("sketch-canvas");
clearCanvas(sketch);
drawable(sketch, "#fff", 16);
$("sketch-clear").addEventListener("click", () => clearCanvas(sketch));
readFile($("sketch-file"), (url) => drawImageOn(sketch, url));
$("sketch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await api("/api/query", { experiment: "edges-to-image", image: sketch.toDataURL("image/png"),
    is_query: true, count: number("sketch-count"), seed: number("sketch-seed") });
  showResults("sketch-results", "sketch", answer, false);
});

// Inpainting: the picture, and the mask painted over it (kept apart, so the
// mask can be cleared); the query is the picture with the mask in black.
const inpaint = $("inpaint-canvas"), mask = document.createElement("canvas");
mask.width = inpaint.width; mask.height = inpaint.height;
let inpaintPicture = null;
clearCanvas(inpaint);
drawable(inpaint, "rgba(220,40,40,.8)", 28, () => mask.getContext("2d"));
function inpaintLoad(url) { inpaintPicture = url; mask.getContext("2d").clearRect(0, 0, mask.width, mask.height); drawImageOn(inpaint, url); }
$("inpaint-clear").addEventListener("click", () => inpaintPicture && inpaintLoad(inpaintPicture));
$("inpaint-lower").addEventListener("click", () => {
  for (const [ctx, color] of [[mask.getContext("2d"), "#000"], [inpaint.getContext("2d"), "rgba(220,40,40,.8)"]]) {
    ctx.fillStyle = color; ctx.fillRect(0, inpaint.height / 2, inpaint.width, inpaint.height / 2);
  }
});
readFile($("inpaint-file"), inpaintLoad);
$("inpaint-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!inpaintPicture) { $("error").textContent = "pick or upload an image first"; $("error").hidden = false; return; }
  const query = document.createElement("canvas"); query.width = inpaint.width; query.height = inpaint.height;
  drawImageOn(query, inpaintPicture, async () => {
    const g = query.getContext("2d"), m = mask.getContext("2d").getImageData(0, 0, mask.width, mask.height).data;
    const picture = g.getImageData(0, 0, query.width, query.height);
    for (let i = 0; i < m.length; i += 4) if (m[i + 3] > 0) { picture.data[i] = picture.data[i + 1] = picture.data[i + 2] = 0; }
    g.putImageData(picture, 0, 0);
    const answer = await api("/api/query", { experiment: "inpainting", image: query.toDataURL("image/png"),
      is_query: true, count: number("inpaint-count") });
    showResults("inpaint-results", "filled", answer, false);
  });
});

// Faces.
let face = null;
readFile($("faces-file"), (url) => (face = url));
$("faces-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!face) { $("error").textContent = "upload a face first"; $("error").hidden = false; return; }
  const answer = await api("/api/query", { experiment: "gan-translation", image: face,
    count: number("faces-count"), seed: number("faces-seed") });
  showResults("faces-results", "faces", answer, false);
});
"""#
}
