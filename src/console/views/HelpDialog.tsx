import { useEffect, useRef } from 'preact/hooks';
import { helpOpen, SHORTCUTS } from '../lib/shortcuts.ts';

/** The keyboard shortcuts (`?`). */
export function HelpDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="help-title" onClose={() => (helpOpen.value = false)}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table class="shortcuts">
        <caption class="visually-hidden">Keys and what they do</caption>
        <thead><tr><th scope="col">Keys</th><th scope="col">What it does</th></tr></thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.what}><td>{s.keys.map((k, i) => <span key={k}>{i > 0 && ' or '}<kbd>{k}</kbd></span>)}</td><td>{s.what}</td></tr>
          ))}
        </tbody>
      </table>
      <form method="dialog"><button type="submit" class="primary">Close</button></form>
    </dialog>
  );
}
