// Compile-time-only tests: the concept tables. Compiling this file is passing.
// Each negative case names the user mistake it stands for.
#include <ctnn/ctnn.hpp>

using namespace ctnn;

// Layers.
static_assert(Layer<Dense<2, 3, Relu>>);
static_assert(Layer<Dense<2, 3>>);  // Linear by default, as Keras's Dense(activation=None)
static_assert(Layer<DropoutLayer<5, 0.5>>);
static_assert(Layer<ActivationLayer<5, Tanh>>);
static_assert(ShapePreservingLayerSpec<Dropout<0.5>>);
static_assert(ShapePreservingLayerSpec<Activation<Softmax>>);
static_assert(LayerSpec<Dropout<0.5>> && LayerSpec<Dense<1, 1>>);
static_assert(!Layer<int>);                   // not a layer at all
static_assert(!Layer<Relu>);                  // an activation policy where a layer belongs
static_assert(!Layer<Dropout<0.5>>);          // unsized spec: Sequential binds it to a size
static_assert(!LayerSpec<Relu>);              // Relu instead of Activation<Relu>
static_assert(!LayerSpec<optimizers::Adam>);  // an optimizer in the layer list

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

// Networks.
struct Reference : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
static_assert(Reference::param_count == 1'290'510);
static_assert(Reference::input_size == 784 && Reference::output_size == 10);
static_assert(Model<Reference, optimizers::Adam, losses::CategoricalCrossentropy, metrics::Accuracy>::fused_softmax_loss);
static_assert(!Model<Reference, optimizers::Adam, losses::MeanSquaredError, metrics::Accuracy>::fused_softmax_loss);

int main() { return 0; }
