"""Generators and discriminators: DCGAN for images, small MLPs for the toy problems."""

from gan.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from gan.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "dcgan_init_",
]
