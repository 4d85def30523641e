#!/bin/sh
# Add ContentV Studio to your desktop's application menu (for you alone; no root needed), or take it out again.
#
#   ./install.sh              menu entry + icon, pointing at this folder (move the folder first if you want it
#                             elsewhere, e.g. ~/.local/opt/ContentVStudio, then run this)
#   ./install.sh --uninstall  remove the menu entry and icon (this folder, your outputs and history stay)
#
# Your settings, history and outputs live in ~/.local/share/ContentV Studio (or the --data-dir you chose), never
# in this folder, so deleting or replacing this folder (an update) keeps them.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"
ID=contentv-studio

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$APPS/$ID.desktop" "$ICONS/256x256/apps/$ID.png" "$ICONS/scalable/apps/$ID.svg"
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" || true
    echo "Removed the menu entry. The program is still in $HERE; delete that folder to remove it."
    exit 0
fi

[ -x "$HERE/ContentVStudio" ] || { echo "error: $HERE/ContentVStudio is missing; run install.sh from the extracted folder." >&2; exit 1; }
mkdir -p "$APPS" "$ICONS/256x256/apps" "$ICONS/scalable/apps"
[ -f "$HERE/$ID.png" ] && cp "$HERE/$ID.png" "$ICONS/256x256/apps/$ID.png"
[ -f "$HERE/$ID.svg" ] && cp "$HERE/$ID.svg" "$ICONS/scalable/apps/$ID.svg"
# The menu entry runs this folder's executable by its absolute path, quoted as the Desktop Entry spec asks
# (inside quotes: \ " ` $ are backslash-escaped, then every backslash doubled again; % is written %%).
QUOTED=$(printf '%s' "$HERE/ContentVStudio" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        Exec=ContentVStudio*) printf 'Exec="%s"%s\n' "$QUOTED" "${line#Exec=ContentVStudio}" ;;
        TryExec=*) printf 'TryExec=%s\n' "$HERE/ContentVStudio" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$HERE/$ID.desktop" > "$APPS/$ID.desktop"
chmod 644 "$APPS/$ID.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
echo "ContentV Studio is in your applications menu (it runs $HERE/ContentVStudio)."
