// Optional chime for new orders: off by default, remembered, and never played on page load
// (only for orders that arrive live after the vendor switched it on with a click).

const KEY = 'vb.sound';
let context = null;

export function soundEnabled() {
  return localStorage.getItem(KEY) === 'on';
}

export function setSoundEnabled(on) {
  localStorage.setItem(KEY, on ? 'on' : 'off');
  // Creating the AudioContext inside the click satisfies autoplay rules for later chimes.
  if (on) ensureContext();
}

function ensureContext() {
  if (!context) context = new AudioContext();
  if (context.state === 'suspended') context.resume().catch(() => {});
  return context;
}

/** Two short rising tones. */
export function chime() {
  if (!soundEnabled()) return;
  const ctx = ensureContext();
  const start = ctx.currentTime;
  [[660, 0], [880, 0.16]].forEach(([frequency, offset]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = frequency;
    osc.type = 'sine';
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.32);
  });
}
