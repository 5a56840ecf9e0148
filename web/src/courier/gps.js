// GPS while the shift is open: watchPosition, fixes batched (every 30 s or
// 20 fixes) into the outbox for POST /api/v1/courier/locations, so they are
// kept offline like the events. The tracker says when the permission is
// missing or the phone has no fix.

import { distanceM } from './day.js';

const FLUSH_MS = 30000;
const FLUSH_N = 20;

export class Tracker {
  constructor(model) {
    this.model = model;
    this.watch = null;
    this.buffer = [];
    this.timer = null;
    this.problem = ''; // '', 'denied', 'unavailable', 'unsupported'
    this.lastKept = 0;
  }

  setProblem(p) {
    if (this.problem !== p) {
      this.problem = p;
      this.model.emit();
    }
  }

  start() {
    if (this.watch !== null) return;
    if (!('geolocation' in navigator)) {
      this.setProblem('unsupported');
      return;
    }
    navigator.permissions?.query({ name: 'geolocation' }).then((st) => {
      if (st.state === 'denied') this.setProblem('denied');
      st.onchange = () => {
        if (st.state === 'denied') this.setProblem('denied');
        else if (this.problem === 'denied') this.setProblem('');
      };
    }).catch(() => {});
    this.first = true;
    this.watch = navigator.geolocation.watchPosition((p) => this.onFix(p), (e) => this.onError(e),
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 });
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
  }

  stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }

  onFix(p) {
    const c = p.coords;
    const time = p.timestamp || Date.now();
    this.model.position = { lat: c.latitude, lng: c.longitude, accuracy: c.accuracy, time };
    this.setProblem('');
    // One fix in 5 s is plenty for the dispatcher's map.
    if (time - this.lastKept < 5000) return;
    this.lastKept = time;
    const ping = { lat: c.latitude, lng: c.longitude, recorded_at: new Date(time).toISOString() };
    if (c.accuracy != null) ping.accuracy_m = Math.round(c.accuracy * 10) / 10;
    if (c.speed != null && Number.isFinite(c.speed)) ping.speed_mps = c.speed;
    if (c.heading != null && Number.isFinite(c.heading)) ping.heading = c.heading;
    this.buffer.push(ping);
    // The dispatcher sees the courier at once at the start of the shift;
    // then every 30 s or 20 fixes.
    if (this.first || this.buffer.length >= FLUSH_N) this.flush();
    this.first = false;
    // The distances on screen follow the courier (every 50 m).
    if (!this.shown || distanceM(this.shown, this.model.position) > 50) {
      this.shown = { ...this.model.position };
      this.model.emit();
    }
  }

  onError(e) {
    if (e.code === 1) this.setProblem('denied');
    else if (e.code === 2) this.setProblem('unavailable');
  }

  flush() {
    if (!this.buffer.length) return;
    const pings = this.buffer;
    this.buffer = [];
    this.model.addPings(pings).catch((e) => console.error('saving positions', e));
  }
}
