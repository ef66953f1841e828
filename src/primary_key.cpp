// placeholder: replaced by the part that owns this file
