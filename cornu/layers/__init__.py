"""``keras.layers``: the layer classes (one family per module), then Keras's short aliases."""
from cornu.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from cornu.layers.attention import (AdditiveAttention, Attention, EinsumDense, GroupQueryAttention,
                                    MultiHeadAttention)
from cornu.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from cornu.layers.convolutional import Conv1D, Conv2D, Conv3D
from cornu.layers.core import Activation, Dense, Identity, Lambda
from cornu.layers.embedding import Embedding, ReversibleEmbedding
from cornu.layers.input_layer import Input, InputLayer
from cornu.layers.layer import InputSpec, Layer
from cornu.layers.masking import Masking
from cornu.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                  average, concatenate, dot, maximum, minimum, multiply, subtract)
from cornu.layers.noise import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                                SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from cornu.layers.normalization import (BatchNormalization, GroupNormalization, LayerNormalization,
                                        RMSNormalization, UnitNormalization)
from cornu.layers.padding_cropping import (Cropping1D, Cropping2D, Cropping3D, ZeroPadding1D, ZeroPadding2D,
                                           ZeroPadding3D)
from cornu.layers.pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
                                  AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D,
                                  AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D,
                                  GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D,
                                  GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from cornu.layers.preprocessing import (CategoryEncoding, Discretization, HashedCrossing, Hashing, Normalization,
                                        Rescaling)
from cornu.layers.preprocessing import IntegerLookup, StringLookup, TextVectorization
from cornu.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from cornu.layers.preprocessing.image.aug_mix import AugMix
from cornu.layers.preprocessing.image.center_crop import CenterCrop
from cornu.layers.preprocessing.image.auto_contrast import AutoContrast
from cornu.layers.preprocessing.image.equalization import Equalization
from cornu.layers.preprocessing.image.cut_mix import CutMix
from cornu.layers.preprocessing.image.mix_up import MixUp
from cornu.layers.preprocessing.image.pipeline import Pipeline
from cornu.layers.preprocessing.image.rand_augment import RandAugment
from cornu.layers.preprocessing.image.random_affine import RandomRotation, RandomTranslation, RandomZoom
from cornu.layers.preprocessing.image.random_color import RandomBrightness, RandomContrast
from cornu.layers.preprocessing.image.random_color_jitter import RandomColorJitter
from cornu.layers.preprocessing.image.random_grayscale import RandomColorDegeneration, RandomGrayscale
from cornu.layers.preprocessing.image.random_hue_saturation import RandomHue, RandomSaturation
from cornu.layers.preprocessing.image.random_invert import RandomInvert
from cornu.layers.preprocessing.image.random_posterization import RandomPosterization
from cornu.layers.preprocessing.image.random_sharpness import RandomSharpness
from cornu.layers.preprocessing.image.solarization import Solarization
from cornu.layers.preprocessing.image.random_crop import RandomCrop
from cornu.layers.preprocessing.image.random_elastic_transform import RandomElasticTransform
from cornu.layers.preprocessing.image.random_erasing import RandomErasing
from cornu.layers.preprocessing.image.random_flip import RandomFlip
from cornu.layers.preprocessing.image.random_gaussian_blur import RandomGaussianBlur
from cornu.layers.preprocessing.image.random_perspective import RandomPerspective
from cornu.layers.preprocessing.image.random_shear import RandomShear
from cornu.layers.preprocessing.image.resizing import Resizing
from cornu.layers.regularization import Dropout
from cornu.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from cornu.layers.rnn import (GRU, LSTM, RNN, Bidirectional, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRUCell, LSTMCell,
                              SimpleRNN, SimpleRNNCell, StackedRNNCells, TimeDistributed)
from cornu.layers.separable_depthwise import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                              SeparableConv2D)
from cornu.layers.serialization import deserialize, serialize
from cornu.layers.spectral_normalization import SpectralNormalization
from cornu.layers.torch_module_wrapper import TorchModuleWrapper
from cornu.layers.upsampling import UpSampling1D, UpSampling2D, UpSampling3D
from cornu.layers.wrapper import Wrapper

# Keras's short aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (Conv1DTranspose, Conv2DTranspose,
                                                                          Conv3DTranspose)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
