"""Graph optimizer (placeholder until the passes land)."""


def optimize(graph):
    return graph
