"""Audio preprocessing layers: spectrograms of raw signals."""
from cornu.layers.preprocessing.audio.mel_spectrogram import MelSpectrogram
from cornu.layers.preprocessing.audio.stft_spectrogram import STFTSpectrogram
