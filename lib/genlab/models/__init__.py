"""One module per model family, each with its builders and its one set of defaults.

* :mod:`~genlab.models.autoencoder`: undercomplete and denoising autoencoders (notebook 01);
* :mod:`~genlab.models.vae`: the variational autoencoder (notebook 02);
* :mod:`~genlab.models.pixelcnn`: masked convolutions, PixelCNN and a Row LSTM PixelRNN (notebook 03);
* :mod:`~genlab.models.mlp_gan`: the course's first, fully connected GAN and its 2-D ring twin (notebook 04);
* :mod:`~genlab.models.dcgan`: the book's DCGAN (notebook 05);
* :mod:`~genlab.models.cgan`: the conditional DCGAN and InfoGAN's D and Q (notebook 06);
* :mod:`~genlab.models.gan_challenges`: notebook 07's study (the strong-D case, remedies, batch sizes);
* :mod:`~genlab.models.pix2pix`, :mod:`~genlab.models.cyclegan` and :mod:`~genlab.models.superres`:
  paired and unpaired image-to-image translation and SRGAN-style super-resolution (notebook 09);
* :mod:`~genlab.models.stylegan` and :mod:`~genlab.models.stylegan_layers`: a small style-based generator
  (mapping network, AdaIN, noise) (notebook 10);
* :mod:`~genlab.models.diffusion` and :mod:`~genlab.models.unet`: DDPM/DDIM, guidance, latent diffusion (notebook 11);
* :mod:`~genlab.models.rbm`: Boltzmann machines, the RBM and the DBN (notebook 12);
* :mod:`~genlab.models.flows`: RealNVP normalizing flows (notebook 13);
* :mod:`~genlab.models.classifier`: the small classifier whose features the metrics use.

A new notebook adds one module here and one line to :mod:`genlab.registry`.
Import the family you need: ``from genlab.models import dcgan``.
"""
