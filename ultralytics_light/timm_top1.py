"""ImageNet-1k top-1 (%) of the pretrained tags of our timm families, as timm publishes them.

From `results/results-imagenet.csv` of huggingface/pytorch-image-models at commit 4e5207c (2025-10-30), SOURCE below:
the row at each tag's own input size (its pretrained_cfg `input_size`). Tags trained on ImageNet-12k only have none.
Shown by `ultralytics-light weights list` and the docs' speed/accuracy front; torchvision's come with its weights.
"""

SOURCE = (
    "https://github.com/huggingface/pytorch-image-models/blob/4e5207c7bb6592474ca56e28b2cf85be8f1a550f/results/"
    "results-imagenet.csv"
)
TOP1 = {
    "mobilenetv4_conv_small.e1200_r224_in1k": 73.450,
    "mobilenetv4_conv_small.e2400_r224_in1k": 73.756,
    "mobilenetv4_conv_small.e3600_r256_in1k": 74.534,
    "mobilenetv4_conv_medium.e250_r384_in12k_ft_in1k": 82.776,
    "mobilenetv4_conv_medium.e500_r224_in1k": 79.092,
    "mobilenetv4_conv_medium.e500_r256_in1k": 79.916,
    "lcnet_050.ra2_in1k": 63.138,
    "lcnet_075.ra2_in1k": 68.786,
    "lcnet_100.ra2_in1k": 72.130,
    "repvit_m0_9.dist_300e_in1k": 78.652,
    "repvit_m0_9.dist_450e_in1k": 79.058,
    "repvit_m1_0.dist_300e_in1k": 80.152,
    "repvit_m1_0.dist_450e_in1k": 80.430,
    "repvit_m1_1.dist_300e_in1k": 80.826,
    "repvit_m1_1.dist_450e_in1k": 81.314,
    "repvit_m1_5.dist_300e_in1k": 82.382,
    "repvit_m1_5.dist_450e_in1k": 82.520,
    "repvit_m2_3.dist_300e_in1k": 83.524,
    "repvit_m2_3.dist_450e_in1k": 83.746,
    "ghostnetv2_100.in1k": 75.186,
    "ghostnetv2_130.in1k": 76.746,
    "ghostnetv2_160.in1k": 77.836,
}
