// A slider over views drawn in advance (see frames.py): moving it swaps the HTML shown.
function render({ model, el }) {
  const frames = model.get("frames");
  const values = Object.keys(frames).map(Number).sort((a, b) => a - b);
  const root = document.createElement("div");
  root.className = "twostep-frames";
  const controls = document.createElement("label");
  controls.style.display = "flex";
  controls.style.gap = "10px";
  controls.style.alignItems = "center";
  const caption = document.createElement("span");
  caption.textContent = model.get("description");
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = String(values[0]);
  slider.max = String(values[values.length - 1]);
  slider.step = "1";
  slider.className = "twostep-frames-slider";
  const shown = document.createElement("output");
  const view = document.createElement("div");
  view.className = "twostep-frames-view";
  controls.append(caption, slider, shown);
  root.append(controls, view);
  el.appendChild(root);

  function show(value) {
    const key = String(value);
    if (!(key in frames)) return;
    slider.value = key;
    shown.textContent = key;
    view.innerHTML = frames[key];
  }
  slider.addEventListener("input", () => {
    show(Number(slider.value));
    model.set("value", Number(slider.value));
    try {
      model.save_changes();  // reaches Python when a kernel is live; a no-op in a static page
    } catch (error) {
      /* no kernel */
    }
  });
  model.on("change:value", () => show(model.get("value")));
  show(model.get("value"));
}

export default { render };
