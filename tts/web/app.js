// The tts server's page: lists the speakers, streams 16-bit PCM from /v1/audio/speech and
// plays it with Web Audio while it arrives, then hands the whole utterance to the <audio>
// element and the download link as a WAV file.
"use strict";

const $ = (id) => document.getElementById(id);
let sampleRate = 16000;
let speakers = [];
let audioContext = null;
let downloadUrl = null;

function authHeaders() {
  const key = $("api-key").value.trim() || localStorage.getItem("tts-api-key") || "";
  return key ? { Authorization: "Bearer " + key } : {};
}

function setStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").classList.toggle("error", isError);
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.error || response.statusText;
  } catch (_) {
    return response.status + " " + response.statusText;
  }
}

function describeSpeaker(info) {
  const parts = [info.gender, info.age, info.accent, info.region].filter(Boolean);
  return (parts.length ? parts.join(", ") : "no metadata") + (info.source ? " · " + info.source : "");
}

function showSpeakerInfo() {
  const info = speakers.find((s) => s.id === $("speaker").value);
  $("speaker-info").textContent = info ? describeSpeaker(info) : "";
}

async function loadSpeakers() {
  const response = await fetch("/api/speakers", { headers: authHeaders() });
  if (response.status === 401) {
    // The state is what scripts (and the tests) wait on, so it changes only once the
    // prompt and its message are both on the page.
    setStatus(await errorMessage(response), true);
    $("key-row").hidden = false;
    document.body.dataset.state = "needs-key";
    return;
  }
  if (!response.ok) {
    setStatus(await errorMessage(response), true);
    return;
  }
  const data = await response.json();
  sampleRate = data.sample_rate;
  speakers = data.speakers;
  $("text").maxLength = data.max_text;
  const select = $("speaker");
  select.replaceChildren(...speakers.map((info) => {
    const option = document.createElement("option");
    option.value = info.id;
    const traits = [info.gender, info.accent].filter(Boolean).join(", ");
    option.textContent = info.id + (traits ? " (" + traits + ")" : "");
    return option;
  }));
  showSpeakerInfo();
  setStatus("");
  document.body.dataset.state = "ready";
}

// 16-bit little-endian PCM bytes → float32 samples.
function pcmToFloat(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
  return samples;
}

function wavBlob(pcmParts, totalBytes) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, s) => { for (let i = 0; i < s.length; i++) header.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); header.setUint32(4, 36 + totalBytes, true); text(8, "WAVE");
  text(12, "fmt "); header.setUint32(16, 16, true); header.setUint16(20, 1, true);
  header.setUint16(22, 1, true); header.setUint32(24, sampleRate, true);
  header.setUint32(28, 2 * sampleRate, true); header.setUint16(32, 2, true);
  header.setUint16(34, 16, true); text(36, "data"); header.setUint32(40, totalBytes, true);
  return new Blob([header, ...pcmParts], { type: "audio/wav" });
}

async function speak(event) {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) { setStatus("Type some text first.", true); return; }
  if ($("api-key").value.trim()) localStorage.setItem("tts-api-key", $("api-key").value.trim());
  audioContext = audioContext || new AudioContext();
  await audioContext.resume();
  $("play").disabled = true;
  document.body.dataset.state = "speaking";
  setStatus("Synthesizing…");
  const started = performance.now();
  try {
    const response = await fetch("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify({
        model: "wavenet-tts", input: text, voice: $("speaker").value,
        speed: Number($("speed").value), pitch: Number($("pitch").value),
        response_format: "pcm", stream: true,
      }),
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const reader = response.body.getReader();
    const parts = [];
    let totalBytes = 0;
    let carry = null;  // a byte of a sample split between two network chunks
    let playAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let bytes = value;
      if (carry !== null) {
        bytes = new Uint8Array(value.length + 1);
        bytes[0] = carry; bytes.set(value, 1);
        carry = null;
      }
      if (bytes.length % 2) { carry = bytes[bytes.length - 1]; bytes = bytes.subarray(0, bytes.length - 1); }
      if (!bytes.length) continue;
      if (!totalBytes) {
        document.body.dataset.firstAudioMs = String(Math.round(performance.now() - started));
        setStatus("Playing while the rest is generated…");
      }
      parts.push(bytes.slice());
      totalBytes += bytes.length;
      const samples = pcmToFloat(bytes);
      const buffer = audioContext.createBuffer(1, samples.length, sampleRate);
      buffer.copyToChannel(samples, 0);
      const source = audioContext.createBufferSource();
      source.buffer = buffer;
      source.connect(audioContext.destination);
      playAt = Math.max(playAt, audioContext.currentTime + 0.05);
      source.start(playAt);
      playAt += buffer.duration;
    }
    const seconds = totalBytes / 2 / sampleRate;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(wavBlob(parts, totalBytes));
    $("audio").src = downloadUrl;
    $("download").href = downloadUrl;
    $("download").hidden = false;
    document.body.dataset.audioSeconds = seconds.toFixed(4);
    setStatus(seconds.toFixed(2) + " s of audio in " + ((performance.now() - started) / 1000).toFixed(2) + " s");
    document.body.dataset.state = "done";
  } catch (error) {
    setStatus(String(error.message || error), true);
    document.body.dataset.state = "error";
  } finally {
    $("play").disabled = false;
  }
}

$("speaker").addEventListener("change", showSpeakerInfo);
$("speed").addEventListener("input", () => { $("speed-value").textContent = Number($("speed").value).toFixed(2); });
$("pitch").addEventListener("input", () => { $("pitch-value").textContent = $("pitch").value; });
$("api-key").addEventListener("change", loadSpeakers);
$("speak-form").addEventListener("submit", speak);
loadSpeakers().catch((error) => setStatus(String(error), true));
