#!/usr/bin/env bash
# Runs the tests of the reference app (vergabe-teilnahme/tests) and of its fault patches
# (tests/) on Python 3.13, which this host lacks: in the python:3.13-slim look-alike image
# with podman when that image is there, else in a Debian trixie chroot made on first use.
# Python dependencies come from vergabe-teilnahme/uv.lock through `uv sync --frozen`.
#
#   reference_app/run-tests.sh                 # auto: podman image if present, else chroot
#   RUN_TESTS_IN=chroot reference_app/run-tests.sh
#   reference_app/run-tests.sh --image         # also build the image and test it (podman)
#   reference_app/run-tests.sh -k seed         # other arguments go to both pytest runs
#
# Exit status: 0 when every selected run passed.
set -euo pipefail

UV_VERSION=0.13.9
PYTHON_IMAGE=docker.io/library/python:3.13-slim

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
scratch=${WP_SCRATCH:-${WP_SANDBOX_CACHE:-$HOME/.cache/wp-sandbox}/scratch}
podman=${PODMAN:-$repo/.sandbox/bin/podman}
chroot_dir=$scratch/trixie-app
mounts=()

# --- inside the Python 3.13 environment ---------------------------------------------------
inside() {
    export UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv-app UV_LINK_MODE=copy \
        UV_CACHE_DIR=/var/cache/uv PYTHONDONTWRITEBYTECODE=1 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    if [ ! -x /opt/uv/bin/uv ]; then
        python3 -m venv /opt/uv
        /opt/uv/bin/pip install --quiet "uv==$UV_VERSION"
    fi
    cd "$repo/reference_app/vergabe-teilnahme"
    /opt/uv/bin/uv sync --frozen --quiet
    local python=/opt/venv-app/bin/python status=0
    echo "== app tests (vergabe-teilnahme/tests) on $($python --version)"
    $python -m pytest "$@" || status=1
    cd "$repo"
    echo "== fault patch tests (reference_app/tests)"
    $python -m pytest -c reference_app/pytest.ini --rootdir reference_app reference_app/tests \
        --ignore reference_app/tests/test_image.py "$@" || status=1
    return $status
}

# --- environments ---------------------------------------------------------------------------
in_podman() {
    mkdir -p "$scratch/uv-cache"
    "$podman" run --rm --network host \
        -v "$repo:$repo:ro" -v "$scratch/uv-cache:/var/cache/uv" \
        "$PYTHON_IMAGE" bash "$repo/reference_app/run-tests.sh" --inside "$@"
}

make_chroot() {
    [ -x "$chroot_dir/usr/bin/python3" ] && return 0
    echo "== creating a Debian trixie chroot in $chroot_dir (once)"
    mkdir -p "$scratch"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        trixie "$chroot_dir" >"$scratch/debootstrap.log" 2>&1 \
        || { echo "debootstrap failed, see $scratch/debootstrap.log" >&2; return 1; }
}

in_chroot() {
    make_chroot
    cp /etc/ssl/certs/ca-certificates.crt "$chroot_dir/etc/ssl/certs/ca-certificates.crt"
    cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
    mount_into() {  # source target [ro]
        mkdir -p "$chroot_dir$2"
        if ! mountpoint -q "$chroot_dir$2"; then
            mount --bind "$1" "$chroot_dir$2"
            [ "${3:-}" = ro ] && mount -o remount,bind,ro "$chroot_dir$2"
            mounts+=("$chroot_dir$2")
        fi
    }
    # shellcheck disable=SC2064
    trap 'for m in "${mounts[@]}"; do umount "$m" || true; done' EXIT
    mount_into /proc /proc
    mount_into /dev /dev
    mount_into "$repo" "$repo" ro
    mkdir -p "$chroot_dir/var/cache/uv"
    chroot "$chroot_dir" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
        bash "$repo/reference_app/run-tests.sh" --inside "$@"
}

image_tests() {
    echo "== image tests (reference_app/tests/test_image.py, podman on the host)"
    RUN_IMAGE_TESTS=1 PODMAN="$podman" "$repo/.venv/bin/python" -m pytest \
        -c "$repo/reference_app/pytest.ini" --rootdir "$repo/reference_app" -p no:django \
        "$repo/reference_app/tests/test_image.py" "$@"
}

# --- main -------------------------------------------------------------------------------------
if [ "${1:-}" = --inside ]; then
    shift
    inside "$@"
    exit $?
fi

with_image=0
args=()
for arg in "$@"; do
    if [ "$arg" = --image ]; then with_image=1; else args+=("$arg"); fi
done

where=${RUN_TESTS_IN:-auto}
if [ "$where" = auto ]; then
    if [ -x "$podman" ] && "$podman" image exists "$PYTHON_IMAGE" 2>/dev/null; then
        where=podman
    else
        where=chroot
    fi
fi

status=0
case "$where" in
    podman) in_podman "${args[@]}" || status=1 ;;
    chroot) in_chroot "${args[@]}" || status=1 ;;
    *) echo "RUN_TESTS_IN must be auto, podman or chroot, not $where" >&2; exit 2 ;;
esac
if [ "$with_image" = 1 ]; then
    image_tests "${args[@]}" || status=1
fi
exit $status
