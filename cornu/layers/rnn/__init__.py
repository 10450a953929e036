"""Recurrent layers: the ``RNN`` base and its cells, ``SimpleRNN``, ``LSTM``, ``GRU``, and the wrappers."""
from cornu.layers.rnn.bidirectional import Bidirectional
from cornu.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from cornu.layers.rnn.gru import GRU, GRUCell
from cornu.layers.rnn.lstm import LSTM, LSTMCell
from cornu.layers.rnn.rnn import RNN
from cornu.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from cornu.layers.rnn.stacked_rnn_cells import StackedRNNCells
from cornu.layers.rnn.time_distributed import TimeDistributed

__all__ = ["Bidirectional", "DropoutRNNCell", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN",
           "SimpleRNNCell", "StackedRNNCells", "TimeDistributed"]
