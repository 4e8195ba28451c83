#!/bin/sh
# A minimal root filesystem for a real-Docker sandbox test, from this machine's own binaries (no
# registry needed): sh, the coreutils the wrapper uses, setsid, and node, each with its shared
# libraries. Usage: make-rootfs.sh DIR; then `tar -C DIR -c . | docker import - NAME`.
set -eu
root=$1
mkdir -p "$root/bin" "$root/usr/bin" "$root/tmp" "$root/etc" "$root/home/ductor" "$root/usr/local/bin"
chmod 1777 "$root/tmp" "$root/home/ductor"
for name in sh dash sleep setsid mkdir rm cat env ls kill ps id node true chmod; do
  path=$(command -v "$name" 2>/dev/null || true)
  case "$path" in /*) ;; *) continue ;; esac
  real=$(readlink -f "$path")
  mkdir -p "$root$(dirname "$path")" "$root$(dirname "$real")"
  cp -L "$real" "$root$real"
  [ "$path" = "$real" ] || cp -L "$real" "$root$path"
  ldd "$real" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
done
[ -e "$root/bin/sh" ] || cp -L "$(command -v sh)" "$root/bin/sh"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
