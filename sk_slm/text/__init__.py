"""Raw documents to tokens: jieba segmentation, normalisation, its cache."""
