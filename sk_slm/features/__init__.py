"""Token lists to model inputs: Word2Vec vectors or id sequences, n-gram TF-IDF."""
