"""`python -m gradc.sanitize COMMAND...`: run COMMAND with every function
gradc builds compiled under AddressSanitizer and UBSan; implemented in
`gradc.backend.sanitize`."""

from gradc.backend.sanitize import main

if __name__ == "__main__":
    main()
