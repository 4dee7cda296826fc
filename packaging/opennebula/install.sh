#!/bin/sh
# Install the LINSTOR OpenNebula driver's action scripts on the front-end and print the
# oned.conf registration.
#
# usage: install.sh [--remotes DIR] [--linstor-one PATH]
#   --remotes      oned's remotes directory (default /var/lib/one/remotes,
#                  $ONE_LOCATION/var/remotes for self-contained installs)
#   --linstor-one  the linstor-one executable the scripts exec (default: found on PATH;
#                  a relative PATH is taken from the current directory; written as an
#                  absolute path unless it is in /usr/bin or /usr/local/bin, since oned runs
#                  drivers with a minimal PATH)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${ONE_LOCATION:-}" ]; then remotes="$ONE_LOCATION/var/remotes"; else remotes=/var/lib/one/remotes; fi
exe=""

while [ $# -gt 0 ]; do
    case "$1" in
        --remotes) remotes=$2; shift 2 ;;
        --linstor-one) exe=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
    esac
done

[ -n "$exe" ] || exe=$(command -v linstor-one || true)
if [ -z "$exe" ] || [ ! -f "$exe" ] || [ ! -x "$exe" ]; then
    echo "install.sh: linstor-one not found (${exe:-not on PATH} is not an executable file);" \
        "install the bundle or pass --linstor-one PATH" >&2
    exit 1
fi
case "$exe" in
    /*) ;;
    *) exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")" ;;
esac
case "$exe" in
    /usr/bin/linstor-one|/usr/local/bin/linstor-one) target=linstor-one ;;
    *) target=$exe ;;
esac

owner=""
if id oneadmin >/dev/null 2>&1; then owner=oneadmin:oneadmin; fi

for kind in datastore tm; do
    dir="$remotes/$kind/linstor"
    mkdir -p "$dir"
    for script in "$here/$kind"/*; do
        name=$(basename "$script")
        sed "s|^exec linstor-one |exec $target |" "$script" > "$dir/$name"
        chmod 755 "$dir/$name"
    done
    if [ -n "$owner" ]; then chown -R "$owner" "$dir"; fi
    echo "installed $(ls "$here/$kind" | wc -l) $kind actions in $dir"
done

echo
echo "Now register the driver in /etc/one/oned.conf:"
echo
cat "$here/oned-linstor.conf"
echo
echo "For disk snapshots of running VMs (snap_create_live), add kvm-linstor to LIVE_DISK_SNAPSHOTS"
echo "in /etc/one/vmm_exec/vmm_execrc on the front-end (oned refuses them otherwise), e.g.:"
echo '    LIVE_DISK_SNAPSHOTS="kvm-qcow2 kvm-shared kvm-ceph kvm-linstor"'
echo
echo "Give each system datastore with TM_MAD=linstor block disks (oned's default for a system"
echo "datastore is FILE, and QEMU refuses a block device opened as a file; mkimage, mkswap and"
echo "context refuse such a datastore, naming the attribute):"
echo '    DISK_TYPE = "BLOCK"'
echo '    CONTEXT_DISK_TYPE = "BLOCK"'
