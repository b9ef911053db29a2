"""Progressive growing of GANs (Karras et al. 2018): big samples, trained small first.

The lecture: "start by resizing the images ... build a small generator and discriminator
... train with the 4 by 4 images until it does well. Add a few more convolution layers
... and now train them with 8 by 8 images." One idea per file:

* ``pixel_norm``      pixelwise feature normalisation
* ``equalized``       the equalised learning rate: N(0, 1) weights scaled at run time
* ``architecture``    resolutions and widths of the levels
* ``generator``       the growing generator (a block per resolution, toRGB per level)
* ``discriminator``   the growing critic (fromRGB per level, minibatch stddev at the end)
* ``fade_in``         nearest upsampling, 2x2 pooling, the alpha blend of old and new
* ``schedule``        fade-in and stabilisation phases counted in images shown
* ``wgan_gp``         WGAN-GP with the drift term; one D step and one G step
* ``ema``             the moving average of G's weights used for samples
* ``data``            the real images padded to 32x32 and pooled to 16, 8, 4
* ``trainer``         growth, Adam resets and checkpoint state, round by round
* ``options``         the run's options (GrowOptions), sized for a 2-core CPU
* ``grow``            the run folder: samples, evaluation, growth picture, resume
* ``evaluation``      the judge's metrics at each resolution (gan.evaluate)
* ``growth_picture``  the same z at 4, 8, 16 and 32 pixels side by side
* ``command``         the ``grow`` subcommand's arguments

Command line: ``python -m gan grow --data fashion-mnist``.
"""
