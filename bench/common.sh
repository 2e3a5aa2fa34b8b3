# Shared by the bench/*.sh runners (sourced, not run). After
#   . "$(dirname "$0")/common.sh"; bench_init NAME "$@"; shift "$bench_shift"
# $root is the source tree and $build a configured build directory: the
# first argument when it is a directory, else $SSRP_BUILD_DIR, else ./build.
bench_init() {
	bench_name=$1
	shift
	root=$(cd "$(dirname "$0")/.." && pwd)
	build=${SSRP_BUILD_DIR:-$root/build}
	bench_shift=0
	if [ $# -gt 0 ] && [ -d "$1" ]; then
		build=$1
		bench_shift=1
	fi
	if [ ! -f "$build/CMakeCache.txt" ]; then
		echo "$bench_name: $build is not a configured build dir; run: cmake -S $root -B $build" >&2
		exit 1
	fi
	if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug$' "$build/CMakeCache.txt" ||
		grep -q '^SSRP_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt"; then
		echo "$bench_name: warning: $build is a debug or sanitizer build; figures will not mean much" >&2
	fi
}

# bench_require COMMAND PACKAGES: stop with the apt-get line when missing.
bench_require() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "$bench_name: $1 is not installed (apt-get install $2)" >&2
		exit 1
	fi
}
