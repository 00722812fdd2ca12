// ctnn/ctnn.hpp — the one header a user includes.
//
// ctnn: a header-only C++20 library in which a whole neural network is a type. Shapes, parameter
// counts and wiring are checked by the compiler; every matrix size is a template constant.
#pragma once

#include "ctnn/config.hpp"

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/error.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/tensor.hpp"

#include "ctnn/activations.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/batch_normalization.hpp"
#include "ctnn/layers/block.hpp"
#include "ctnn/layers/conv1d.hpp"
#include "ctnn/layers/conv2d.hpp"
#include "ctnn/layers/dense.hpp"
#include "ctnn/layers/dropout.hpp"
#include "ctnn/layers/embedding.hpp"
#include "ctnn/layers/flatten.hpp"
#include "ctnn/layers/global_pooling2d.hpp"
#include "ctnn/layers/input.hpp"
#include "ctnn/layers/merge.hpp"
#include "ctnn/layers/pooling1d.hpp"
#include "ctnn/layers/pooling2d.hpp"
#include "ctnn/layers/recurrent.hpp"
#include "ctnn/layers/repeat_vector.hpp"
#include "ctnn/layers/zero_padding2d.hpp"

#include "ctnn/losses/losses.hpp"
#include "ctnn/metrics/accuracy.hpp"
#include "ctnn/optimizers/adam.hpp"
#include "ctnn/optimizers/rmsprop.hpp"
#include "ctnn/optimizers/sgd.hpp"

#include "ctnn/callbacks/backup_and_restore.hpp"
#include "ctnn/callbacks/callback.hpp"
#include "ctnn/callbacks/csv_logger.hpp"
#include "ctnn/callbacks/early_stopping.hpp"
#include "ctnn/callbacks/history.hpp"
#include "ctnn/callbacks/lambda_callback.hpp"
#include "ctnn/callbacks/learning_rate_scheduler.hpp"
#include "ctnn/callbacks/model_checkpoint.hpp"
#include "ctnn/callbacks/progbar.hpp"
#include "ctnn/callbacks/reduce_lr_on_plateau.hpp"
#include "ctnn/callbacks/tensorboard.hpp"
#include "ctnn/callbacks/terminate_on_nan.hpp"
#include "ctnn/model/fit_options.hpp"
#include "ctnn/model/model.hpp"
#include "ctnn/model/sequential.hpp"

#include "ctnn/datasets/mnist.hpp"
#include "ctnn/io/idx.hpp"
#include "ctnn/io/npz.hpp"
#include "ctnn/io/onnx.hpp"
#include "ctnn/tensorboard/event_writer.hpp"

#include "ctnn/core/cpu.hpp"  // last: xsimd comes in first through the kernels' headers
