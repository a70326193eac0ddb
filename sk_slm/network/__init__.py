"""The BiLSTM-attention network: module, classifier, its training steps."""
