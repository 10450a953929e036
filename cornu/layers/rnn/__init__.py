"""Recurrent layers: the ``RNN`` base and cells, ``SimpleRNN``, ``LSTM``, ``GRU``, ``ConvLSTM1D/2D/3D``, wrappers."""
from cornu.layers.rnn.bidirectional import Bidirectional
from cornu.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from cornu.layers.rnn.gru import GRU, GRUCell
from cornu.layers.rnn.lstm import LSTM, LSTMCell
from cornu.layers.rnn.rnn import RNN
from cornu.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from cornu.layers.rnn.stacked_rnn_cells import StackedRNNCells
from cornu.layers.rnn.time_distributed import TimeDistributed

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "DropoutRNNCell", "GRU", "GRUCell", "LSTM",
           "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed"]
