import { labelColor } from '../lib/desk.ts';

/** A label as a chip: its catalogue colour as a dot and border, dark text (readable on any colour). */
export function LabelChip({ name, small, onRemove }: { name: string; small?: boolean; onRemove?: () => void }) {
  const color = labelColor(name);
  return (
    <span class={`chip${small ? ' small' : ''}`} data-label={name} style={{ borderColor: color }}>
      <span class="dot" style={{ background: color }} aria-hidden="true" />
      {name}
      {onRemove && (
        <button type="button" class="chip-x" aria-label={`Remove label ${name}`} onClick={onRemove}>×</button>
      )}
    </span>
  );
}
