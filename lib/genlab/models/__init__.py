"""One module per model family, each with its builders and its one set of defaults.

* :mod:`~genlab.models.autoencoder`: undercomplete and denoising autoencoders (notebook 01);
* :mod:`~genlab.models.vae`: the variational autoencoder (notebook 02);
* :mod:`~genlab.models.pixelcnn`: masked convolutions, PixelCNN and a Row LSTM PixelRNN (notebook 03);
* :mod:`~genlab.models.dcgan`: the book's DCGAN (notebook 05);
* :mod:`~genlab.models.cgan`: the conditional DCGAN and InfoGAN's D and Q (notebook 06);
* :mod:`~genlab.models.flows`: RealNVP normalizing flows (notebook 13);
* :mod:`~genlab.models.classifier`: the small classifier whose features the metrics use.

A new notebook adds one module here and one line to :mod:`genlab.registry`.
Import the family you need: ``from genlab.models import dcgan``.
"""
