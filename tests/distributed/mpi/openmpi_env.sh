# tests/distributed/mpi/openmpi_env.sh — sourced (POSIX sh) by the scripts that start MPI jobs in
# tests: sets `mpirun_flags` and exports the Open MPI settings a one-host test needs in CI or a
# container. $mpirun must name the mpirun to use.
mpirun_flags=
if "$mpirun" --version 2>&1 | grep -q "Open MPI"; then
  # Root is refused without --allow-run-as-root; 4 ranks on 2 cores need --oversubscribe; binding
  # to cores can fail in a container's restricted cpuset, and buys nothing for these tests.
  mpirun_flags="--allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS"
  # One host: shared memory and the in-process loopback only, through ob1 (no probing of the
  # InfiniBand / OFI / UCX transports Debian builds in, which warn or stall in containers).
  export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}" OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader}"
  # Single-copy transfers need ptrace rights over the peer (CAP_SYS_PTRACE), which containers
  # usually lack: large messages would fail. Copy through the shared segment instead.
  export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
  # mpirun refuses to start without ssh or rsh on PATH even when every rank is local (openmpi-bin
  # depends on openssh-client; this covers an image that removed it).
  if ! command -v ssh > /dev/null && ! command -v rsh > /dev/null; then
    export OMPI_MCA_plm_rsh_agent="${OMPI_MCA_plm_rsh_agent:-false}"
  fi
fi
