from setuptools import find_packages, setup

setup(
    name='hrpro_plugin',
    version='0.1.0',
    description='HR-Pro point-supervised temporal action localization '
    'as an MMAction2 plugin',
    packages=find_packages(include=['hrpro_plugin', 'hrpro_plugin.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'numpy>=1.23,<2.4',  # numpy 2.4 removed np.trapz (mmaction2 metrics)
        'mmengine>=0.7.1,<1.0.0',
        # mmcv-lite, not mmcv: mmaction asserts mmcv<2.2.0 and full mmcv
        # compiles from source for 20+ minutes; no compiled op is needed here.
        'mmcv-lite>=2.0.0rc4,<2.2.0',
        'mmaction2>=1.2.0,<1.3',
        'terminaltables',
        'importlib_metadata',  # undeclared dependency of mmaction2 1.2.0
        'setuptools<81',  # mmengine imports pkg_resources
    ],
    extras_require={
        'tests': ['pytest'],
        'vis': ['matplotlib'],
    },
)
