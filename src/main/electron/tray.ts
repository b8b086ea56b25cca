import type { Menu as MenuType, NativeImage, Tray as TrayType } from 'electron';

export interface TrayDeps {
  Tray: new (image: NativeImage) => TrayType;
  Menu: { buildFromTemplate: typeof MenuType.buildFromTemplate };
  icon: NativeImage;
}

export interface TrayActions {
  show(): void;
  togglePolling(): void;
  quit(): void;
}

/** The tray icon: the number of listening ports at a glance, and the few actions that make sense there. */
export class PortwatchTray {
  private readonly tray: TrayType;
  private listening = -1;
  private paused = false;

  constructor(
    private readonly deps: TrayDeps,
    private readonly actions: TrayActions,
  ) {
    this.tray = new deps.Tray(deps.icon);
    this.tray.on('click', () => actions.show());
    this.render();
  }

  /** Call after each snapshot or delta with the number of listening sockets. */
  update(listening: number, paused: boolean): void {
    if (listening === this.listening && paused === this.paused) return;
    this.listening = listening;
    this.paused = paused;
    this.render();
  }

  label(): string {
    if (this.listening < 0) return 'Portwatch: starting';
    const ports = `${this.listening} listening port${this.listening === 1 ? '' : 's'}`;
    return `Portwatch: ${ports}${this.paused ? ' (polling paused)' : ''}`;
  }

  destroy(): void {
    this.tray.destroy();
  }

  private render(): void {
    this.tray.setToolTip(this.label());
    if (this.listening >= 0) this.tray.setTitle(String(this.listening));
    this.tray.setContextMenu(
      this.deps.Menu.buildFromTemplate([
        { label: this.label(), enabled: false },
        { type: 'separator' },
        { label: 'Show Portwatch', click: () => this.actions.show() },
        { label: this.paused ? 'Resume polling' : 'Pause polling', click: () => this.actions.togglePolling() },
        { type: 'separator' },
        { label: 'Quit', click: () => this.actions.quit() },
      ]),
    );
  }
}
