"""One module per model family, each with its builders and its one set of defaults.

* :mod:`~genlab.models.dcgan`: the book's DCGAN (notebook 05);
* :mod:`~genlab.models.classifier`: the small classifier whose features the metrics use.

A new notebook adds one module here and one line to :mod:`genlab.registry`.
Import the family you need: ``from genlab.models import dcgan``.
"""
