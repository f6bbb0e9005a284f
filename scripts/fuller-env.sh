#!/usr/bin/env bash
# Makes sure what the fuller suite needs is here and running: a Redis on
# 127.0.0.1:6379 (redis-server and redis-cli installed with apt-get if
# missing, started if stopped), moto_server,
# cfn-lint and the aws CLI (installed with pip if missing), and Chromium for
# the headless check of sluice run's report.html (Debian's chromium package,
# installed with apt-get if missing). The tests start
# moto_server themselves, on a free loopback port. Anything still missing is
# reported here and fails the suite: the fuller suite never skips.
set -uo pipefail

# redis-server and redis-cli: the real Redis on 6379, and the 3-node Redis
# Cluster the tests start themselves (internal/testenv.RedisCluster).
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "installing redis-server and redis-tools with apt-get"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq >/dev/null &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null ||
		echo "fuller suite: apt-get could not install redis-server and redis-tools"
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	if command -v redis-server >/dev/null 2>&1; then
		echo "starting redis-server on 127.0.0.1:6379"
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
		for _ in $(seq 1 50); do
			redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
			sleep 0.1
		done
	fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	echo "fuller suite: no Redis on 127.0.0.1:6379 (install redis-server, e.g. apt-get install redis-server)"

fi

need_pip=()
command -v moto_server >/dev/null 2>&1 || need_pip+=("moto[server]")
command -v cfn-lint >/dev/null 2>&1 || need_pip+=("cfn-lint")
command -v aws >/dev/null 2>&1 || need_pip+=("awscli")
if [ ${#need_pip[@]} -gt 0 ]; then
	echo "installing ${need_pip[*]} with pip"
	python3 -m pip install --quiet "${need_pip[@]}" || echo "fuller suite: pip could not install ${need_pip[*]}"
fi
for tool in moto_server cfn-lint aws; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fuller suite: $tool is not installed (pip install 'moto[server]' cfn-lint awscli)"

	fi
done
# Headless Chromium renders report.html in the fuller suite.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
	sudo=""
	if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	fi
	if command -v apt-get >/dev/null 2>&1; then
		echo "installing chromium with apt-get"
		$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null ||
			echo "fuller suite: apt-get could not install chromium"
	fi
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
	echo "fuller suite: chromium is not installed (apt-get install chromium)"
fi
# The tests fail on whatever is still missing, naming it; this script only
# reports, so the test output shows every problem at once.
exit 0
