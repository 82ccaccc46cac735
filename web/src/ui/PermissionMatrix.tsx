// The role-group permission matrix: rows are the catalogue's menus and their screens (indented),
// columns No Permission / Read Only / Full Permission. A menu row sets all its screens at once.
// Read-only mode shows marks instead of radios (no edit control at all).
import { Fragment } from 'react';
import { CATALOGUE, LEVELS, LEVEL_LABEL, type Level, type Menu, type ScreenKey } from '../../../src/identity/catalogue.ts';

export type LevelMap = Partial<Record<ScreenKey, Level>>;

export interface PermissionMatrixProps {
  levels: LevelMap;
  onChange?: (next: LevelMap) => void;
  readOnly?: boolean;
  menus?: Menu[];
}

function menuLevel(menu: Menu, levels: LevelMap): Level | null {
  const set = new Set(menu.screens.map((s) => levels[s.key] ?? 'none'));
  return set.size === 1 ? [...set][0] : null;
}

function Cell({ name, label, level, current, readOnly, onPick }: { name: string; label: string; level: Level; current: Level | null; readOnly?: boolean; onPick: (l: Level) => void }) {
  const checked = current === level;
  if (readOnly) {
    return (
      <td className="align-center matrix-cell">
        {checked ? (
          <span className={`matrix-mark matrix-${level}`} aria-label={`${label}: ${LEVEL_LABEL[level]}`}>
            ●
          </span>
        ) : null}
      </td>
    );
  }
  return (
    <td className="align-center matrix-cell">
      <input type="radio" name={name} value={level} checked={checked} aria-label={`${label}: ${LEVEL_LABEL[level]}`} onChange={() => onPick(level)} />
    </td>
  );
}

export function PermissionMatrix({ levels, onChange, readOnly, menus = CATALOGUE }: PermissionMatrixProps) {
  const set = (keys: ScreenKey[], level: Level) => {
    const next: LevelMap = { ...levels };
    for (const k of keys) next[k] = level;
    onChange?.(next);
  };
  return (
    <div className="table-wrap">
      <table className="table matrix" aria-label="Permissions">
        <thead>
          <tr>
            <th>Menu / screen</th>
            {LEVELS.map((l) => (
              <th key={l} className="align-center matrix-col">
                {LEVEL_LABEL[l]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {menus.map((menu) => {
            const single = menu.screens.length === 1 && menu.screens[0].key === menu.key;
            if (single) {
              const s = menu.screens[0];
              return (
                <tr key={menu.key} className="matrix-menu" data-screen={s.key}>
                  <th scope="row">{s.label}</th>
                  {LEVELS.map((l) => (
                    <Cell key={l} name={`level-${s.key}`} label={s.label} level={l} current={levels[s.key] ?? 'none'} readOnly={readOnly} onPick={(lv) => set([s.key], lv)} />
                  ))}
                </tr>
              );
            }
            let lastSection: string | undefined;
            return (
              <Fragment key={menu.key}>
                <tr className="matrix-menu" data-menu={menu.key}>
                  <th scope="row">
                    {menu.label} <span className="matrix-hint">{readOnly ? '' : '(all screens)'}</span>
                  </th>
                  {LEVELS.map((l) => (
                    <Cell
                      key={l}
                      name={`menu-${menu.key}`}
                      label={`${menu.label} (all screens)`}
                      level={l}
                      current={menuLevel(menu, levels)}
                      readOnly={readOnly}
                      onPick={(lv) => set(menu.screens.map((s) => s.key), lv)}
                    />
                  ))}
                </tr>
                {menu.screens.map((s) => {
                  const showSection = s.section && s.section !== lastSection;
                  lastSection = s.section;
                  return (
                    <Fragment key={s.key}>
                      {showSection && (
                        <tr className="matrix-section">
                          <th scope="row" colSpan={4}>
                            {s.section}
                          </th>
                        </tr>
                      )}
                      <tr className={s.section ? 'matrix-screen matrix-screen-deep' : 'matrix-screen'} data-screen={s.key}>
                        <th scope="row">{s.label}</th>
                        {LEVELS.map((l) => (
                          <Cell key={l} name={`level-${s.key}`} label={s.label} level={l} current={levels[s.key] ?? 'none'} readOnly={readOnly} onPick={(lv) => set([s.key], lv)} />
                        ))}
                      </tr>
                    </Fragment>
                  );
                })}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
