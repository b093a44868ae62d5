"""An example of a gradc pass kept outside gradc's tree, registered with
xDSL's `xdsl.universe` entry point (see docs/writing-a-pass.md)."""
