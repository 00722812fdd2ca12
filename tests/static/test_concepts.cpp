// Compile-time-only tests: the concept tables. Compiling this file is passing.
// Each negative case names the user mistake it stands for.
#include <type_traits>

#include <ctnn/ctnn.hpp>

using namespace ctnn;

// Layers.
static_assert(Layer<Dense<2, 3, Relu>>);
static_assert(Layer<Dense<2, 3>>);  // Linear by default, as Keras's Dense(activation=None)
static_assert(Layer<DropoutLayer<Shape<5>, 0.5>>);
static_assert(Layer<ActivationLayer<Shape<5>, Tanh>>);
static_assert(BindableLayerSpec<Dropout<0.5>>);
static_assert(BindableLayerSpec<Activation<Softmax>>);
static_assert(LayerSpec<Dropout<0.5>> && LayerSpec<Dense<1, 1>>);
static_assert(!Layer<int>);                   // not a layer at all
static_assert(!Layer<Relu>);                  // an activation policy where a layer belongs
static_assert(!Layer<Dropout<0.5>>);          // unsized spec: Sequential binds it to a size
static_assert(!LayerSpec<Relu>);              // Relu instead of Activation<Relu>
static_assert(!LayerSpec<optimizers::Adam>);  // an optimizer in the layer list

// Shapes: one sample, channels last; the batch is never part of a shape.
static_assert(Shape<28, 28, 1>::size == 784 && Shape<28, 28, 1>::rank == 3 && Shape<784>::rank == 1);
static_assert(ShapeType<Shape<5>> && ImageShapeType<Shape<26, 26, 32>> && !ImageShapeType<Shape<784>>);
static_assert(!ShapeType<int>);  // a number where a Shape<...> belongs
static_assert(std::is_same_v<Dense<784, 10>::input_shape, Shape<784>>);  // Dense<In, ...> means Shape<In>
static_assert(BindableLayerSpec<Flatten> && Layer<FlattenLayer<Shape<13, 13, 32>>>);
static_assert(std::is_same_v<FlattenLayer<Shape<13, 13, 32>>::output_shape, Shape<5408>>);
static_assert(!LayerSpec<Input<28, 28, 1>>);  // Input only gives the first layer its shape

// Activations.
static_assert(ActivationPolicy<Linear> && ActivationPolicy<Relu> && ActivationPolicy<Sigmoid> &&
              ActivationPolicy<Tanh> && ActivationPolicy<Softmax>);
static_assert(ElementwiseActivation<Relu> && !ElementwiseActivation<Softmax>);
static_assert(!ActivationPolicy<int>);

// Losses and optimizers.
static_assert(Loss<losses::CategoricalCrossentropy, 10>);
static_assert(Loss<losses::SparseCategoricalCrossentropy, 10>);
static_assert(Loss<losses::MeanSquaredError, 1>);
static_assert(Loss<losses::BinaryCrossentropy, 1>);
static_assert(!Loss<metrics::Accuracy, 10>);  // a metric given where the loss belongs
static_assert(Optimizer<optimizers::Adam> && Optimizer<optimizers::SGD> && Optimizer<optimizers::RMSprop>);
static_assert(!Optimizer<losses::CategoricalCrossentropy>);  // arguments of compile() swapped

// Metrics (CallbackPolicy's table is in tests/callbacks/test_callback.cpp).
static_assert(Metric<metrics::Accuracy>);
static_assert(!Metric<int>);                             // not a metric at all
static_assert(!Metric<losses::CategoricalCrossentropy>);  // a loss given where a metric belongs
static_assert(!Metric<optimizers::Adam>);                // an optimizer given where a metric belongs
struct NamelessMetric {                                  // correct() but no name for the logs
    template <std::size_t N, class LossT, class Target>
    double correct(std::size_t, const float*, const Target*) const { return 0.0; }
};
static_assert(!Metric<NamelessMetric>);

// Networks.
struct Reference : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
static_assert(Reference::param_count == 1'290'510);
static_assert(Reference::input_size == 784 && Reference::output_size == 10);
static_assert(Model<Reference, optimizers::Adam, losses::CategoricalCrossentropy, metrics::Accuracy>::fused_softmax_loss);
static_assert(!Model<Reference, optimizers::Adam, losses::MeanSquaredError, metrics::Accuracy>::fused_softmax_loss);

// Input<...> first; Flatten and Dropout take the shape before them; Input is not a layer.
struct Flattened : Sequential<Input<4, 4, 2>, Flatten, Dropout<0.5>, Dense<32, 3, Softmax>> {};
static_assert(Flattened::layer_count == 3 && Flattened::param_count == 32 * 3 + 3);
static_assert(std::is_same_v<Flattened::input_shape, Shape<4, 4, 2>> && Flattened::input_size == 32);
static_assert(std::is_same_v<Flattened::layer_type<1>::input_shape, Shape<32>>);
struct InputThenDense : Sequential<Input<784>, Dense<784, 10>> {};  // Input<784> before Dense<784, ...>: allowed
static_assert(InputThenDense::layer_count == 1);

int main() { return 0; }
