// ctnn/distributed/distributed.hpp — data-parallel training over MPI: the one header to include for it.
//
// Not part of ctnn/ctnn.hpp: it includes <mpi.h>, and a program that trains on one process must
// build without MPI. Link MPI with it (meson: dependency('mpi', language: 'cpp'); or mpic++).
#pragma once

#include "ctnn/core/communicator.hpp"
#include "ctnn/distributed/mpi_communicator.hpp"
#include "ctnn/distributed/run_or_abort.hpp"
#include "ctnn/distributed/shard_sum.hpp"
