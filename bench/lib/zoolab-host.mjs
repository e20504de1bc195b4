/**
 * A child process that holds a ZooLab ensemble's supervisor (as the app's main process holds
 * it), so the supervisor's work — reading every server's log and trace NDJSON, polling srvr —
 * runs beside the servers, as in the app, and not in the bench process that generates the load.
 * Driven over the IPC channel by startZooLabEnsemble (servers.mjs): one request at a time,
 * { op: 'start' | 'kill' | 'restart' | 'stop', ... } → { ok, ... } | { error }.
 * If the bench goes away (IPC disconnect), this process exits and its servers with it.
 */
import { startZooLabEnsembleHere } from './servers.mjs';

let ensemble = null;
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  try {
    switch (m.op) {
      case 'start': {
        ensemble = await startZooLabEnsembleHere(m.options);
        const ids = ensemble.ids;
        process.send({ ok: true, ids, ports: ids.map((id) => ensemble.port(id)), coldStartMs: ensemble.coldStartMs, dir: ensemble.dir });
        break;
      }
      case 'kill':
        await ensemble.kill(m.id);
        process.send({ ok: true });
        break;
      case 'restart':
        await ensemble.restart(m.id);
        process.send({ ok: true });
        break;
      case 'pids':
        process.send({ ok: true, pids: ensemble.ids.map((id) => ensemble.pid(id)) });
        break;
      case 'stop':
        if (ensemble) await ensemble.stop();
        ensemble = null;
        process.send({ ok: true });
        break;
      default:
        process.send({ error: `unknown op ${m.op}` });
    }
  } catch (e) {
    process.send({ error: e.stack ?? String(e) });
  }
});
