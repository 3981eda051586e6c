# workloads.sh: the macro workloads of `tandem bench --suite linux`, for busybox sh,
# sourced by the Linux guest's init and run by `tandem bench` natively (the same
# i386 busybox and tandem-work on the host), so both run exactly the same commands.
#
# usage: . workloads.sh N REPEAT DATA WORKLOAD...   (WORKLOAD: forkwait getppid pipe compute)
# Each workload runs REPEAT times; one run prints "tandem-linux: start NAME" and
# "tandem-linux: end NAME n=COUNT RESULT", the host timestamping both lines. Counts
# scale with N: forkwait N processes, getppid 100*N calls, pipe 10*N round trips,
# compute (N+49)/50 passes of sha256sum over DATA. tandem-work and busybox are
# $TANDEM_WORK and $BUSYBOX when set, else found on PATH. A workload that fails
# prints "tandem-linux: fail NAME: why".
tandem_workloads() {
	tw_n=$1 tw_rep=$2 tw_data=$3 tw_work=${TANDEM_WORK:-tandem-work} tw_bb=${BUSYBOX:-busybox}
	shift 3
	for tw_w in "$@"; do
		tw_r=0
		while [ $tw_r -lt "$tw_rep" ]; do
			case $tw_w in
			forkwait) "$tw_work" forkwait "$tw_n" ;;
			getppid) "$tw_work" getppid $((tw_n * 100)) ;;
			pipe) "$tw_work" pipe $((tw_n * 10)) ;;
			compute)
				tw_p=$(((tw_n + 49) / 50)) tw_i=0 tw_sum=
				echo "tandem-linux: start compute"
				while [ $tw_i -lt $tw_p ]; do
					tw_sum=$("$tw_bb" sha256sum "$tw_data") || tw_sum=failed
					tw_i=$((tw_i + 1))
				done
				echo "tandem-linux: end compute n=$tw_p sha256=${tw_sum%% *}" ;;
			*) echo "tandem-linux: fail $tw_w: unknown workload" ;;
			esac
			tw_r=$((tw_r + 1))
		done
	done
}
