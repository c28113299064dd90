"""The pages for people: views by area, forms, the timeline and the workflow diagram."""
