/// The page: one HTML document with a tab per experiment; `app.js` fills it.
enum PageHTML {
    static let text = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Net2Net</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>Net2Net</h1>
  <p class="tagline">query x → Φ → z<sub>Φ</sub> → τ(v | z<sub>Φ</sub>) → z<sub>Θ</sub> → Λ → image</p>
  <nav id="tabs">
    <button data-tab="text" class="active">Text → image</button>
    <button data-tab="swap">Label / class swap</button>
    <button data-tab="sketch">Sketch → image</button>
    <button data-tab="inpaint">Inpainting</button>
    <button data-tab="faces">Faces</button>
    <button data-tab="train">Train your own τ</button>
  </nav>
  <p id="status" class="note">loading…</p>
</header>
<main>
<section id="tab-text" class="tab">
  <form id="text-form" class="controls">
    <label>Prompt <input id="text-prompt" name="prompt" value="a pair of running shoes" maxlength="500" required></label>
    <label>Samples <input id="text-count" type="number" min="1" max="64" value="8"></label>
    <label>Temperature <input id="text-temperature" type="number" min="0" max="2" step="0.1" value="1"></label>
    <label>Seed <input id="text-seed" type="number" min="0" value="0"></label>
    <label class="check"><input id="text-same" type="checkbox"> same noise, other prompt</label>
    <button id="text-go" type="submit">Generate</button>
  </form>
  <p class="note">With “same noise” the seed, and so every v, stays fixed: the rows below show τ(v | Φ(prompt)) for each prompt you try, the same v in each column.</p>
  <div id="text-results"></div>
</section>
<section id="tab-swap" class="tab" hidden>
  <p class="note">Pick an image (or upload a PNG), name what it should become: v = τ⁻¹(z | Φ(source)), z* = τ(v | Φ(target)); the first result uses the image's posterior mean, the others posterior draws (several v).</p>
  <div id="swap-examples" class="strip"></div>
  <form id="swap-form" class="controls">
    <label>Upload PNG <input id="swap-file" type="file" accept="image/png"></label>
    <label>Experiment <select id="swap-experiment"><option value="text-to-image">text → image</option></select></label>
    <label>Target <input id="swap-to" value="a sandal" list="swap-classes" maxlength="500" required></label>
    <datalist id="swap-classes"></datalist>
    <label>Samples <input id="swap-count" type="number" min="1" max="64" value="6"></label>
    <button id="swap-go" type="submit">Swap</button>
  </form>
  <div id="swap-results"></div>
</section>
<section id="tab-sketch" class="tab" hidden>
  <p class="note">Draw edges (white on black) with the mouse or a finger, or upload an edge map; edges → image samples images whose Sobel edges look like it.</p>
  <div class="row">
    <canvas id="sketch-canvas" width="280" height="280"></canvas>
    <form id="sketch-form" class="controls column">
      <button type="button" id="sketch-clear">Clear</button>
      <label>Upload edge map <input id="sketch-file" type="file" accept="image/png"></label>
      <label>Samples <input id="sketch-count" type="number" min="1" max="64" value="8"></label>
      <label>Seed <input id="sketch-seed" type="number" min="0" value="0"></label>
      <button id="sketch-go" type="submit">Make images</button>
    </form>
  </div>
  <div id="sketch-results"></div>
</section>
<section id="tab-inpaint" class="tab" hidden>
  <p class="note">Pick an image, paint over the part to hide, then fill it: τ samples images whose masked version matches.</p>
  <div id="inpaint-examples" class="strip"></div>
  <div class="row">
    <canvas id="inpaint-canvas" width="280" height="280"></canvas>
    <form id="inpaint-form" class="controls column">
      <button type="button" id="inpaint-lower">Mask lower half</button>
      <button type="button" id="inpaint-clear">Clear mask</button>
      <label>Upload PNG <input id="inpaint-file" type="file" accept="image/png"></label>
      <label>Samples <input id="inpaint-count" type="number" min="1" max="64" value="8"></label>
      <button id="inpaint-go" type="submit">Fill</button>
    </form>
  </div>
  <div id="inpaint-results"></div>
</section>
<section id="tab-faces" class="tab" hidden>
  <p class="note">A DCGAN face, queried as it is, as its edge map or with its lower half masked (or upload a PNG): τ samples DCGAN latents whose faces EfficientNet sees as alike.</p>
  <form id="faces-form" class="controls">
    <label>Face seed <input id="faces-face-seed" type="number" min="0" value="3"></label>
    <label>Query <select id="faces-query"><option value="face">the face</option><option value="edges">its edge map</option><option value="masked">its masked half</option></select></label>
    <label>Or upload PNG <input id="faces-file" type="file" accept="image/png"></label>
    <label>Samples <input id="faces-count" type="number" min="1" max="64" value="8"></label>
    <label>Seed <input id="faces-seed" type="number" min="0" value="0"></label>
    <button id="faces-go" type="submit">Faces</button>
  </form>
  <div id="faces-results"></div>
</section>
<section id="tab-train" class="tab" hidden>
  <p class="note">Train τ from the experiment's recipe (configs/), on this machine, in memory; the loss (nats/dim) and the held-out validation stream in live. When it ends, or when you stop it, τ serves its experiment's page.</p>
  <form id="train-form" class="controls">
    <label>Experiment <select id="train-experiment">
      <option value="label-to-image">label → image</option>
      <option value="text-to-image">text → image</option>
      <option value="edges-to-image">edges → image</option>
      <option value="inpainting">inpainting</option>
      <option value="gan-translation">faces (DCGAN)</option>
    </select></label>
    <label>Steps <input id="train-steps" type="number" min="1" max="5000" value="300"></label>
    <label>Training images (pairs) <input id="train-images" type="number" min="200" max="20000" value="3000"></label>
    <button id="train-go" type="submit">Start</button>
    <button id="train-stop" type="button">Stop</button>
  </form>
  <canvas id="train-plot" width="640" height="280"></canvas>
  <p id="train-status" class="note"></p>
</section>
<div id="progress" hidden><span class="spinner"></span> <span id="progress-text">working…</span></div>
<p id="error" class="error" hidden></p>
</main>
</body>
</html>
"""#
}
